"""DJI R-JPEGs (H20T, H20N, H30T, M2EA, M30T, M3T, M3TD, M4T, XT S) to °C.

DJI's own thermal cameras need the DJI Thermal SDK. We call it through the optional
extra ``dronegis[dji]``, the ``dji-thermal-cli`` package: a pure-Python port of the
SDK v1.8 that is bit-for-bit identical to ``dirp_measure_ex``. That package is AGPL,
so it is imported lazily, only inside this module, and only when a DJI file is
converted. Zenmuse XT2/XT R files are FLIR inside and never come here.

Distance precedence: a fixed override; the file's laser-rangefinder reading (as
dji-thermal-cli does by default); the frame's height above ground; the embedded value.
Values outside the camera's accepted range are refused by the SDK (ThermalError).
When every parameter equals the embedded one, ``set_measurement_params`` is not
called: it only rebuilds the SDK's pseudo-colour LUT (about 1 s on an H20T) and the
temperatures are identical (checked bit for bit in the tests).
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np

from core.errors import DecoderUnavailable, ThermalError
from flights.models import ThermalParameters
from pipeline.models import ThermalOverrides

log = logging.getLogger(__name__)

INSTALL_HINT = "install with pip install 'dronegis[dji]'"
SUPPORTED_MODELS = ("H20T", "H20N", "H30T", "M2EA", "M30T", "M3T", "M3TD", "M4T", "XT S")

# ThermalOverrides field -> SDK measurement parameter: the only place the SDK's names appear
SDK_NAMES = {
    "object_distance_m": "distance",
    "relative_humidity_pct": "humidity",
    "emissivity": "emissivity",
    "reflected_temp_c": "reflection",
    "atmospheric_temp_c": "ambient_temp",
}


class DjiThermal(NamedTuple):
    """A DJI frame in °C with the parameters the SDK used and where each came from (our names)."""

    celsius: np.ndarray
    parameters: dict[str, float]
    sources: dict[str, str]
    plugin: str


def _sdk(name: str = "this file") -> ModuleType:
    """The SDK port, imported on first use."""
    try:
        from dji_thermal_cli import tsdk
    except ImportError as exc:
        raise DecoderUnavailable(
            f"{name}: DJI thermal R-JPEGs need the dji-thermal-cli decoder: {INSTALL_HINT}"
        ) from exc
    return tsdk


def dji_available() -> bool:
    """True when the ``dronegis[dji]`` extra is installed."""
    try:
        _sdk()
    except DecoderUnavailable:
        return False
    return True


def _open(data: bytes, name: str) -> Any:
    tsdk = _sdk(name)
    try:
        return tsdk.open(data)
    except tsdk.TsdkError as exc:
        raise ThermalError(f"{name}: not a decodable DJI thermal R-JPEG: {exc}") from exc


def _load(source: Path | bytes) -> tuple[str, bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        return "<bytes>", bytes(source)
    try:
        return str(source), Path(source).read_bytes()
    except OSError as exc:
        raise ThermalError(f"{source}: cannot read: {exc}") from exc


def read_dji_metadata(path: Path) -> ThermalParameters:
    """The measurement parameters embedded in a DJI R-JPEG (via the SDK port).

    Raises:
        DecoderUnavailable: the ``dronegis[dji]`` extra is missing.
        ThermalError: the file is not a DJI thermal R-JPEG.
    """
    name, data = _load(path)
    rj = _open(data, name)
    p = rj.get_measurement_params()
    has_ambient = tuple(rj.get_measurement_params_range().get("ambient_temp", (0.0, 0.0))) != (0.0, 0.0)
    width, height = rj.resolution()
    return ThermalParameters(
        emissivity=p.emissivity,
        object_distance_m=p.distance,
        reflected_temp_c=p.reflection,
        atmospheric_temp_c=p.ambient_temp if has_ambient else None,
        relative_humidity_pct=p.humidity,
        raw_width=width,
        raw_height=height,
        format="dji-rjpeg",
    )


def read_dji(
    source: Path | bytes,
    overrides: ThermalOverrides | None = None,
    *,
    frame_distance_m: float | None = None,
) -> DjiThermal:
    """Temperatures (float32 °C, NaN where the SDK has none) of a DJI R-JPEG.

    Args:
        source: the file or its bytes.
        overrides: per-flight or user values; ``None`` fields keep the file's.
        frame_distance_m: the frame's distance (height above ground), used when no
            override and no valid rangefinder reading exist.

    Raises:
        DecoderUnavailable: the ``dronegis[dji]`` extra is missing.
        ThermalError: not a DJI thermal R-JPEG, or a parameter the camera refuses.
    """
    overrides = overrides or ThermalOverrides()
    name, data = _load(source)
    tsdk = _sdk(name)
    rj = _open(data, name)
    params = rj.get_measurement_params()
    embedded = params.as_dict()
    ranges = rj.get_measurement_params_range()
    sources = dict.fromkeys(SDK_NAMES.values(), "file")
    for ours, sdk in SDK_NAMES.items():
        value = getattr(overrides, ours)
        if value is None:
            continue
        if tuple(ranges.get(sdk, (1.0, 1.0))) == (0.0, 0.0):
            log.info("%s: camera has no %s parameter; override %s ignored", name, sdk, value)
            sources[sdk] = "unsupported"
            continue
        setattr(params, sdk, float(value))
        sources[sdk] = "override"
    if overrides.object_distance_m is None:
        _distance(data, rj, params, sources, frame_distance_m if overrides.distance_from_height else None)
    try:
        if params.as_dict() != embedded:  # unchanged: skip the SDK's colour-LUT rebuild (1 s on H20T)
            rj.set_measurement_params(params)
        celsius = rj.measure_temperature_c()
    except tsdk.TsdkError as exc:
        raise ThermalError(
            f"{name}: the DJI SDK refused the measurement parameters {params.as_dict()}: {exc}"
        ) from exc
    by_sdk = {sdk: name for name, sdk in SDK_NAMES.items()}
    used = {
        by_sdk[k]: float(v)
        for k, v in params.as_dict().items()
        if k in by_sdk and tuple(ranges.get(k, (1.0, 1.0))) != (0.0, 0.0)
    }
    celsius = np.asarray(celsius, dtype=np.float32)
    kept = {by_sdk[k]: v for k, v in sources.items() if by_sdk[k] in used}
    return DjiThermal(celsius, used, kept, str(rj.plugin))


def _distance(
    data: bytes, rj: Any, params: Any, sources: dict[str, str], frame_distance_m: float | None
) -> None:
    """Rangefinder distance, else the frame's, clamped to the camera's range (H20T: 1–25 m)."""
    from dji_thermal_cli import core

    low, high = rj.get_measurement_params_range()["distance"]
    lrf = core.read_rangefinder(data)
    if lrf is not None and lrf.distance is not None:
        wanted, source = float(lrf.distance), "rangefinder"
    elif frame_distance_m is not None:
        wanted, source = float(frame_distance_m), "frame"
    else:
        return
    params.distance = min(max(wanted, low), high)
    clamped = params.distance != wanted
    sources["distance"] = f"{source} (clamped from {wanted:g} m)" if clamped else source
