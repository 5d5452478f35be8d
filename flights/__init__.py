"""What pilots deliver: folder scanning, EXIF/XMP/FLIR metadata, control files, the archive.

The first floor above :mod:`core`: it imports nothing of ``pipeline``, ``qa``, ``webgis_export``
or ``dronegis``. The facade holds the models and the capture reader::

    from flights import FileKind, Flight, read_capture

The stages come from their modules::

    from flights.ingest import IngestConfig, ingest_folder, load_flight
    from flights.control import read_control_file

    flight = ingest_folder(folder, IngestConfig.for_workspace(workspace, "f1", now))

Every ``flights.x`` import runs this file first, so it imports only what the lightest users
(``dronegis thermal``, the CLI's settings) load anyway. Ingest with its rasters, checks and
archive, the control files (pyproj), the areas (shapely) and the sample flight (PIL) add
0.15-0.2 CPU-s of start-up to the facade's 0.3 (measured on the shared box); they are imported
from their modules (:mod:`flights.ingest`, :mod:`flights.control`, :mod:`flights.aoi`,
:mod:`flights.sample`, :mod:`flights.summary`).
"""

from flights.classify import classify
from flights.exif import read_capture
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

__all__ = [
    "Capture",
    "ControlFile",
    "ControlPoint",
    "DeliveredFile",
    "FileKind",
    "Flight",
    "Problem",
    "Purpose",
    "Severity",
    "classify",
    "read_capture",
]
