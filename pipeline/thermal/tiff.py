"""Radiometric TIFFs to °C (REFERENCE.md §4.4): float TIFFs and 16-bit TIFFs with a profile.

Radiometric TIFFs cannot be re-computed for emissivity afterwards (their temperatures
were fixed at export), so measurement overrides are recorded as ignored.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning

from core.errors import ThermalError
from pipeline.models import ThermalOverrides

log = logging.getLogger(__name__)


class TiffProfile(NamedTuple):
    """How TIFF values become °C: ``value * scale + offset``."""

    scale: float
    offset: float
    note: str


TIFF_PROFILES: dict[str, TiffProfile] = {
    "centikelvin": TiffProfile(
        0.01, -273.15, "K×100 (Sentera 6X, MicaSense Altum LWIR [U], dji-thermal-cli temp_ck)"
    ),
    "duo-pro-r-high": TiffProfile(0.04, -273.15, "FLIR Duo Pro R / XT2 TIFF, high gain (−25…+135 °C)"),
    "duo-pro-r-low": TiffProfile(0.4, -273.15, "FLIR Duo Pro R TIFF, low gain (−40…+550 °C)"),
    "flir-duo": TiffProfile(0.01, -273.15, "FLIR Duo TIFF"),
    "decikelvin": TiffProfile(0.1, -273.15, "K×10"),
    "celsius": TiffProfile(1.0, 0.0, "float °C (the default for float TIFFs)"),
    "kelvin": TiffProfile(1.0, -273.15, "float K (dji-thermal-cli temp_k)"),
    "fahrenheit": TiffProfile(5.0 / 9.0, -160.0 / 9.0, "float °F (dji-thermal-cli temp_f)"),
}
IMPLAUSIBLE_MEDIAN_C = 200.0


class CelsiusFrame(NamedTuple):
    """A frame in °C (float32, NaN = no data) and the record of how it was made."""

    celsius: np.ndarray
    measurement: dict[str, Any]


def read_radiometric_tiff(
    path: Path, profile: str | None = None, overrides: ThermalOverrides | None = None
) -> CelsiusFrame:
    """A radiometric TIFF in °C: float TIFFs are °C unless a profile says otherwise;
    16-bit TIFFs need a named scale/offset profile (:data:`TIFF_PROFILES`).

    Values at or below absolute zero (and DN 0) are the exporters' no-data and become NaN.

    Raises:
        ThermalError: 16-bit without a profile, unknown profile, other data types, or a
            float TIFF without profile whose median is implausible as °C (kelvin?).
    """
    with quiet_rasterio(), rasterio.open(path) as src:
        data = src.read(1, masked=True)
    is_float = np.issubdtype(data.dtype, np.floating)
    if not is_float and data.dtype != np.uint16:
        raise ThermalError(f"{path}: radiometric TIFF must be float °C or uint16 counts, not {data.dtype}")
    if profile is None and not is_float:
        raise ThermalError(
            f"{path}: 16-bit TIFF needs a scale/offset profile, one of {sorted(TIFF_PROFILES)}"
        )
    if profile is not None and profile not in TIFF_PROFILES:
        raise ThermalError(f"{path}: unknown TIFF profile {profile!r}; known: {sorted(TIFF_PROFILES)}")
    p = TIFF_PROFILES[profile or "celsius"]
    celsius = (data.astype(np.float64) * p.scale + p.offset).astype(np.float32).filled(np.nan)
    celsius[celsius <= -273.15 + 1e-3] = np.nan
    if profile is None:
        median = float(np.nanmedian(celsius)) if np.isfinite(celsius).any() else 0.0
        if median > IMPLAUSIBLE_MEDIAN_C:
            raise ThermalError(
                f"{path}: median {median:.1f} is implausible for °C; if the TIFF holds kelvin or °F "
                "pass the profile 'kelvin' or 'fahrenheit' (or 'celsius' to accept it)"
            )
    record: dict[str, Any] = {
        "format": "radiometric-tiff",
        "profile": profile or "celsius",
        "scale": p.scale,
        "offset": p.offset,
    }
    if overrides is not None and not overrides.is_empty():
        log.warning("%s: radiometric TIFF temperatures are fixed; measurement overrides ignored", path)
        record["overrides_ignored"] = overrides.model_dump(exclude_none=True)
    return CelsiusFrame(celsius, record)


@contextmanager
def quiet_rasterio() -> Iterator[None]:
    """Silence NotGeoreferencedWarning for frames that are in pixel space on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        yield
