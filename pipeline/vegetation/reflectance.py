"""From raw band-frame DNs to reflectance, and how far the result can be trusted (pure numpy).

The sensor signal per vendor:

- **MicaSense** radiance, W/m²/sr/nm (MicaSense ``imageprocessing`` and ODM ``opendm/multispectral.py``):
  L = V(x, y) · (p − black) / (1 + a2·y/t − a3·y) · a1 / (g · t · 2^bits), negative values set to 0,
  with V = 1 / (1 + Σ kᵢ rⁱ⁺¹) the vignetting correction, y the sensor row, t the exposure in s,
  g the gain (ISO/100).
- **DJI P4 Multispectral / Mavic 3M** (DJI image processing guides): p_cam = V · (p − black)/65535 /
  (g · t), V = 1 + Σ kᵢ rⁱ⁺¹; multiplied by ``SensorGainAdjustment`` so that the bands share one scale.
- **Parrot Sequoia** (Parrot's application note): I = f² (p − B) / (A · t · ISO + C) with the sensor
  model A, B, C and the f-number f.

Reflectance, and the label every output carries:

- ``panel``: a calibration panel of known reflectance ρ seen in a frame of the flight: ρ_pixel =
  signal · ρ / mean(signal over the panel) — absolute, the best there is;
- ``irradiance``: MicaSense radiance with the downwelling light sensor: ρ = π L / E — absolute,
  as good as the sensor's irradiance (tilt, clouds);
- ``relative``: DJI / Sequoia signal over their sunlight sensor's irradiance — proportional to
  reflectance with a scale common to the bands (normalised indices such as NDVI are valid;
  SAVI's additive constant is not);
- ``uncalibrated``: nothing to normalise by; the values are the sensor signal (radiance or scaled
  DNs) and indices compare only within one flight.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from enum import StrEnum
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from core.errors import RasterInputError, UsageError
from pipeline.vegetation.frames import BandFrame, Vendor, Vignetting

Array = NDArray[np.float64]


class Calibration(StrEnum):
    """How a reflectance (or index) value was calibrated; written into every output."""

    PANEL = "panel"
    IRRADIANCE = "irradiance"
    RELATIVE = "relative"
    UNCALIBRATED = "uncalibrated"


CALIBRATION_TEXT: Mapping[Calibration, tuple[str, str]] = MappingProxyType(
    {
        Calibration.PANEL: ("reflektans (kalibreringsplade)", "reflectance (calibration panel)"),
        Calibration.IRRADIANCE: ("reflektans (irradianssensor)", "reflectance (irradiance sensor)"),
        Calibration.RELATIVE: (
            "relativ reflektans (solsensor; fælles skala ukendt)",
            "relative reflectance (sunlight sensor; common scale unknown)",
        ),
        Calibration.UNCALIBRATED: (
            "ukalibreret: sammenlign kun inden for samme flyvning",
            "uncalibrated: compare only within one flight",
        ),
    }
)


def sensor_coordinates(shape: tuple[int, int], native_scale: float) -> tuple[Array, Array]:
    """Sensor-pixel x (columns) and y (rows) of every frame pixel centre, as (rows, cols) arrays."""
    rows, cols = shape
    x = (np.arange(cols, dtype=np.float64) + 0.5) * native_scale - 0.5
    y = (np.arange(rows, dtype=np.float64) + 0.5) * native_scale - 0.5
    xx, yy = np.meshgrid(x, y)
    return xx, yy


def vignetting_factor(vig: Vignetting, x: Array, y: Array) -> Array:
    """The factor the raw signal is multiplied by to remove vignetting."""
    r = np.hypot(x - vig.center[0], y - vig.center[1])
    poly = np.ones_like(r)
    for power, k in enumerate(vig.coefficients, start=1):
        poly += k * r**power
    out: Array = 1.0 / poly if vig.model == "divide" else poly
    return out


def _need[V](frame: BandFrame, name: str, value: V | None) -> V:
    """``value``, or a clear error naming the frame and what calibration lacks."""
    if value is None:
        raise RasterInputError(f"{frame.path}: {frame.vendor} frame has no {name}; cannot calibrate it")
    return value


def micasense_radiance(dn: NDArray[np.generic], frame: BandFrame) -> Array:
    """Spectral radiance (W/m²/sr/nm) of a MicaSense band frame."""
    a1, a2, a3 = _need(frame, "radiometric calibration", frame.radiometric_calibration)
    t, g = _need(frame, "exposure time", frame.exposure_s), _need(frame, "gain", frame.gain)
    black = _need(frame, "black level", frame.black_level)
    x, y = sensor_coordinates((dn.shape[-2], dn.shape[-1]), frame.native_scale)
    signal = dn.astype(np.float64) - black
    if frame.vignetting is not None:
        signal *= vignetting_factor(frame.vignetting, x, y)
    signal /= 1.0 + a2 * y / t - a3 * y
    np.maximum(signal, 0.0, out=signal)
    radiance: Array = signal * a1 / (g * t * 2.0**frame.bits_per_sample)
    return radiance


def dji_signal(dn: NDArray[np.generic], frame: BandFrame) -> Array:
    """DJI P4 Multispectral / Mavic 3M camera signal on the common band scale (p_cam × SGA)."""
    t, g = _need(frame, "exposure time", frame.exposure_s), _need(frame, "gain", frame.gain)
    black = _need(frame, "black level", frame.black_level)
    signal = (dn.astype(np.float64) - black) / 65535.0
    if frame.vignetting is not None:
        x, y = sensor_coordinates((dn.shape[-2], dn.shape[-1]), frame.native_scale)
        signal *= vignetting_factor(frame.vignetting, x, y)
    out: Array = signal / (g * t) * (frame.sensor_gain_adjustment or 1.0)
    return out


def sequoia_signal(dn: NDArray[np.generic], frame: BandFrame) -> Array:
    """Parrot Sequoia irradiance-like signal f² (p − B)/(A·t·ISO + C)."""
    a, b, c = _need(frame, "sensor model (Camera:SensorModel)", frame.sensor_model)
    t, g = _need(frame, "exposure time", frame.exposure_s), _need(frame, "ISO", frame.gain)
    f = _need(frame, "f-number", frame.f_number)
    out: Array = f**2 * (dn.astype(np.float64) - b) / (a * t * (g * 100.0) + c)
    return out


def _generic_signal(dn: NDArray[np.generic], frame: BandFrame) -> Array:
    out: Array = dn.astype(np.float64) / (2.0**frame.bits_per_sample - 1.0)
    return out


SIGNALS: Mapping[Vendor, Callable[[NDArray[np.generic], BandFrame], Array]] = MappingProxyType(
    {
        "micasense": micasense_radiance,
        "dji": dji_signal,
        "sequoia": sequoia_signal,
        "generic": _generic_signal,
    }
)


def panel_factor(panel_signal: NDArray[np.generic], panel_reflectance: float) -> float:
    """Reflectance per unit signal from the pixels of a calibration panel of known reflectance.

    Raises:
        UsageError: reflectance outside (0, 1], or no positive signal over the panel.
    """
    if not 0.0 < panel_reflectance <= 1.0:
        raise UsageError(f"panel reflectance must be in (0, 1], got {panel_reflectance}")
    values = np.asarray(panel_signal, dtype=np.float64)
    mean = float(np.nanmean(values)) if np.isfinite(values).any() else math.nan
    if not mean > 0.0:
        raise UsageError(f"calibration panel has no positive signal (mean {mean})")
    return panel_reflectance / mean


def to_reflectance(
    signal: Array, frame: BandFrame, *, panel: float | None = None
) -> tuple[Array, Calibration]:
    """Reflectance of the sensor signal and its calibration label (see the module docstring).

    Args:
        signal: the vendor's sensor signal (:data:`SIGNALS`).
        frame: the frame's metadata (vendor, irradiance).
        panel: reflectance per unit signal from :func:`panel_factor`, when a panel was flown.
    """
    if panel is not None:
        return signal * panel, Calibration.PANEL
    if frame.irradiance is None or frame.irradiance <= 0:
        return signal, Calibration.UNCALIBRATED
    if frame.vendor == "micasense":
        return signal * math.pi / frame.irradiance, Calibration.IRRADIANCE
    return signal / frame.irradiance, Calibration.RELATIVE
