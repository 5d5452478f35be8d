"""What one publication applies: the zones read once, the detector, the access of single frames.

Single frames (RGB and thermal) are raw photographs of whatever lay below the drone: they are
published ``internal`` whatever the publication's access, unless the publisher explicitly makes
them public with a recorded reason (``dronegis publish --public-frames REASON``). The reason is
kept on the layer (``overrides['public_frames']``) and in STAC (``dronegis:overrides``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import ConfigDict

from core.atomic import atomic_write_text
from core.models import Frozen
from pipeline.models import ProductKind
from pipeline.rasters.cog import profile_for
from webgis_export.models import Access
from webgis_export.privacy.models import STAMP_NAME, PrivacyConfig, PrivacyStamp
from webgis_export.privacy.people import blur_people_in_cog
from webgis_export.privacy.raster import mask_cog
from webgis_export.privacy.zones import PrivacyZones, load_zones

log = logging.getLogger(__name__)

FRAME_KINDS = frozenset({ProductKind.RGB_FRAME, ProductKind.THERMAL_FRAME})
PUBLIC_FRAMES = "public_frames"


class PrivacyRun(Frozen):
    """The privacy of one publication, ready to apply: zones read, choices made."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    zones: PrivacyZones | None = None
    detect_people: bool = False
    public_frames: str | None = None


def privacy_run(config: PrivacyConfig | None) -> PrivacyRun:
    """Read the zones of ``config`` once (before anything is staged).

    Raises:
        PrivacyZoneError: the zones file cannot be used; nothing is published.
    """
    if config is None:
        return PrivacyRun()
    zones = load_zones(config.zones) if config.zones is not None else None
    return PrivacyRun(zones=zones, detect_people=config.detect_people, public_frames=config.public_frames)


def frame_access(kind: ProductKind, access: Access, run: PrivacyRun) -> tuple[Access, dict[str, str]]:
    """The access of a layer of ``kind`` and the overrides to record: frames stay internal unless chosen."""
    if kind is ProductKind.PHOTO_POINTS and access == "public" and run.public_frames:
        return access, {PUBLIC_FRAMES: run.public_frames}  # their thumbnails are frames too
    if kind not in FRAME_KINDS or access == "internal":
        return access, {}
    if run.public_frames:
        return "public", {PUBLIC_FRAMES: run.public_frames}
    log.info("single frames are published internal (public only with --public-frames REASON)")
    return "internal", {}


def apply_to_cog(cog: Path, kind: ProductKind, run: PrivacyRun) -> PrivacyStamp:
    """Mask the zones out of a staged COG (and blur people in RGB frames when asked); the stamp."""
    stamp = mask_cog(cog, run.zones, profile_for(kind))
    if run.detect_people and kind is ProductKind.RGB_FRAME:
        stamp = blur_people_in_cog(cog, stamp)
    return stamp


def write_stamp(folder: Path, stamp: PrivacyStamp) -> None:
    """Write the layer's ``privacy.json`` into its (staged) folder."""
    atomic_write_text(folder / STAMP_NAME, stamp.model_dump_json(indent=2) + "\n")
