"""How one delivery is ingested: where it goes, what was declared with it, the rules' settings."""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field
from shapely.geometry.base import BaseGeometry

from core.models import Frozen
from core.workspace import Workspace
from flights.ingest_lock import DEFAULT_LOCK_TIMEOUT
from flights.models import DeclaredCapture, HeightDatums, Purpose


class IngestConfig(Frozen):
    """Everything :func:`flights.ingest.ingest_folder` needs besides the folder and a progress callback.

    Attributes:
        archive_dir: ``archive/<flight>`` of the workspace.
        quarantine_dir: ``quarantine/<flight>`` of the workspace.
        flight_id: id of the flight (also written to the manifest).
        now: the clock (injected) for ``time_in_future`` and ``ingested_at``.
        purpose: why the flight was flown (mapping purposes get the gimbal rules).
        aoi: AOI file (GeoJSON/GeoPackage, any CRS) or an EPSG:4326 geometry.
        municipality: municipality file (Skanderborg selected by KOMKODE 0746) or geometry.
        blur_threshold: variance of the Laplacian below which a frame is blurry
            (None: ``flights.quality.DEFAULT_BLUR_THRESHOLD``).
        workers: processes for the quality pass; ``flights.archive.copy_threads(workers)`` threads
            copy and read the files.
        flight_json: where to write the Flight JSON as well (atomically), if given.
        camera_timezone: IANA zone (or tzinfo) assumed for capture times that carry no offset
            (``time_source`` ``exif+assumed:<zone>``); None: Europe/Copenhagen.
        lock_timeout: seconds to wait while another process ingests the same flight
            (:mod:`flights.ingest_lock`).
        captured: the delivery's declared capture date (``--captured``,
            :func:`flights.raster_time.declared_capture`): dates rasters that carry none and
            have no dated frames; None keeps the declaration of a previous ingest.
        height_datum: the declared vertical datum of delivered DSMs/DTMs, stored in the Flight
            for ``process``; None keeps the declaration of a previous ingest.
        site: the site name a person gave (``Skanderborg Rådhus``), the place in the layers'
            titles; None keeps the name of a previous ingest.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    archive_dir: Path
    quarantine_dir: Path
    flight_id: str
    now: datetime
    purpose: Purpose = Purpose.OTHER
    aoi: Path | BaseGeometry | None = None
    municipality: Path | BaseGeometry | None = None
    blur_threshold: float | None = None
    workers: int = 2
    flight_json: Path | None = None
    camera_timezone: str | tzinfo | None = None
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    captured: DeclaredCapture | None = None
    height_datum: HeightDatums | None = None
    site: str | None = Field(None, max_length=120)

    @classmethod
    def for_workspace(
        cls, workspace: Workspace, flight_id: str, now: datetime, **options: Any
    ) -> IngestConfig:
        """The archive, quarantine and Flight JSON of ``flight_id`` in ``workspace``, plus ``options``.

        Raises:
            pydantic.ValidationError: an option is unknown or of the wrong type.
        """
        return cls(
            archive_dir=workspace.archive(flight_id),
            quarantine_dir=workspace.quarantine(flight_id),
            flight_json=workspace.flight_json(flight_id),
            flight_id=flight_id,
            now=now,
            **options,
        )
