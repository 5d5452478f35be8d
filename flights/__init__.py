"""What pilots deliver: folder scanning, EXIF/XMP/FLIR metadata, control files, the archive.

The first floor above :mod:`core`: it imports nothing of ``pipeline``, ``qa``, ``webgis_export``
or ``dronegis``. The everyday names are here::

    from flights import IngestConfig, ingest_folder, read_capture, read_control_file

    flight = ingest_folder(folder, IngestConfig.for_workspace(workspace, "f1", now))
"""

from flights.aoi import load_area, load_municipality
from flights.classify import classify
from flights.control import read_control_file
from flights.exif import read_capture
from flights.ingest import ingest_folder, load_flight
from flights.ingest_config import IngestConfig
from flights.models import (
    Capture,
    ControlFile,
    ControlPoint,
    DeliveredFile,
    FileKind,
    Flight,
    Problem,
    Purpose,
    Severity,
)
from flights.sample import make_sample_flight
from flights.summary import FlightSummary, summarize

__all__ = [
    "Capture",
    "ControlFile",
    "ControlPoint",
    "DeliveredFile",
    "FileKind",
    "Flight",
    "FlightSummary",
    "IngestConfig",
    "Problem",
    "Purpose",
    "Severity",
    "classify",
    "ingest_folder",
    "load_area",
    "load_flight",
    "load_municipality",
    "make_sample_flight",
    "read_capture",
    "read_control_file",
    "summarize",
]
