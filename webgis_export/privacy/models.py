"""Frozen models of privacy: what a publication applies, and what it recorded of it."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from core.models import Frozen

#: The sidecar in every published layer folder: the layer's :class:`PrivacyStamp` (JSON).
STAMP_NAME = "privacy.json"


class PrivacyConfig(Frozen):
    """What a publication applies: the zones, the people detector, the choice to publish raw frames."""

    zones: Path | None = Field(None, description="polygon file of the privacy zones (any OGR format and CRS)")
    detect_people: bool = Field(False, description="blur people found by the detector in frames")
    public_frames: str | None = Field(
        None, description="recorded reason to publish single frames as public (default: internal)"
    )


class PrivacyStamp(Frozen):
    """What privacy did to one published layer (``privacy.json`` beside its COG or GeoPackage)."""

    zones: str | None = Field(
        None, description="sha256 fingerprint of the zones applied; None when no zones were configured"
    )
    zones_file: str | None = Field(None, description="the zones file read")
    method: str = Field("none", description="fill (imagery), nodata (values), drop/clip (features), none")
    masked_share: float = Field(0.0, ge=0.0, le=1.0, description="share of the data pixels masked")
    masked_features: int = Field(0, ge=0, description="features dropped or clipped")
    detector: str | None = Field(None, description="the people detector that ran, if any")
    detections: int | None = Field(None, ge=0, description="people found and blurred (None: detector off)")
