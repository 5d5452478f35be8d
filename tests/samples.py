"""Named lists of real sample files in the shared data folder, and small shared test helpers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.workspace import Workspace

FLIR_RADIOMETRIC = [
    "thermal_parser/images/FLIR.jpg",
    "thermal_parser/images/FLIR_AX8.jpg",
    "thermal_parser/images/FLIR_B60.jpg",
    "thermal_parser/images/FLIR_E40.jpg",
    "thermal_parser/images/FLIR_T640.jpg",
    "thermal_parser/images/DJI_XT2.jpg",
    "thermal_parser/images/DJI_XTR.jpg",
    "flirpy/test/test_data/frame_000000.fff",
    "flirpy/test/test_data/frame_000000_le.fff",
    "thermimage/inst/extdata/IR_2412.jpg",
    "metadata_extractor_images/jpg/FLIR iPhone device.jpg",
]
# parsed like the others; SOURCES.md: probably not radiometric, so no temperature truth
FLIR_SAMPLES = [*FLIR_RADIOMETRIC, "metadata_extractor_images/jpg/FLIR Vue Pro 640.jpg"]


def ingest_into(ws: Workspace, folder: Path, flight: str) -> None:
    """Ingest ``folder`` as ``flight`` into the workspace with a fixed clock (2026-11-28 UTC)."""
    from datetime import UTC, datetime

    from flights.ingest import ingest_folder

    ingest_folder(
        folder,
        archive_dir=ws.archive(flight),
        quarantine_dir=ws.quarantine(flight),
        flight_id=flight,
        now=datetime(2026, 11, 28, tzinfo=UTC),
        flight_json=ws.flight_json(flight),
    )
