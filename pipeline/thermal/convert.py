"""Any supported thermal file to float32 °C: FLIR R-JPEG/FFF, DJI R-JPEG, radiometric TIFFs.

:func:`convert_frame` turns a FLIR R-JPEG or FFF (pure Python + the radiometric model of
:mod:`pipeline.thermal.radiometry`), a DJI R-JPEG (the optional ``dronegis[dji]`` adapter,
:mod:`pipeline.thermal.dji`), a float32 °C TIFF or a 16-bit TIFF with a declared scale/offset
profile (REFERENCE.md §4.4, :mod:`pipeline.thermal.tiff`) into °C with the record of how it was
made. :func:`distance_from_capture` is a frame's object distance from its height and pitch.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from core.errors import ThermalError
from flights.flir import is_flir, read_flir
from flights.models import Capture
from pipeline.models import ThermalOverrides
from pipeline.thermal.dji import read_dji
from pipeline.thermal.radiometry import MeasurementParameters, raw_to_celsius
from pipeline.thermal.tiff import CelsiusFrame, read_radiometric_tiff

log = logging.getLogger(__name__)


def convert_frame(
    path: Path,
    overrides: ThermalOverrides | None = None,
    *,
    frame_distance_m: float | None = None,
    tiff_profile: str | None = None,
    data: bytes | None = None,
) -> CelsiusFrame:
    """Any supported thermal file to °C.

    Args:
        path: FLIR R-JPEG / FFF, DJI R-JPEG, or radiometric TIFF.
        overrides: per-flight or user measurement parameters (not applicable to TIFFs,
            whose temperatures were fixed at export; they are then recorded as ignored).
        frame_distance_m: the frame's distance to the object (height above ground).
        tiff_profile: name in :data:`TIFF_PROFILES` for 16-bit TIFFs.
        data: the file's bytes when the caller has read them already (``dronegis thermal``
            hashes them), so that the file is not read twice.

    Raises:
        ThermalError: unreadable or unsupported file (message names it).
        DecoderUnavailable: a DJI file without the ``dronegis[dji]`` extra.
    """
    overrides = overrides or ThermalOverrides()
    path = Path(path)
    try:
        head = _head(path) if data is None else data[:4]
    except OSError as exc:
        raise ThermalError(f"{path}: cannot read: {exc}") from exc
    if head[:2] in (b"II", b"MM"):
        return read_radiometric_tiff(path, tiff_profile, overrides)
    data = path.read_bytes() if data is None else data
    if is_flir(data):
        image = read_flir(data, name=str(path))
        params = MeasurementParameters.from_thermal(
            image.params, overrides, frame_distance_m=frame_distance_m
        )
        record = {"format": "flir-fff", "decoder": "dronegis", **params.model_dump()}
        return CelsiusFrame(raw_to_celsius(image.raw, params), record)
    if head[:2] == b"\xff\xd8":
        dji = read_dji(path, overrides, frame_distance_m=frame_distance_m)
        record = {"format": "dji-rjpeg", "decoder": f"dji-thermal-cli/{dji.plugin}", **dji.parameters}
        return CelsiusFrame(dji.celsius, {**record, "sources": dji.sources})
    raise ThermalError(f"{path}: not a thermal image dronegis can read (starts with {head!r})")


def _head(path: Path) -> bytes:
    """The first four bytes of a file (its magic)."""
    with path.open("rb") as fh:
        return fh.read(4)


def distance_from_capture(capture: Capture, *, min_pitch_deg: float = 20.0) -> float | None:
    """The object distance of a frame from its height above take-off and gimbal pitch.

    Nadir: the height; oblique: the slant distance to the image centre,
    ``height / sin(-pitch)``. ``None`` (keep the file's value) without a positive
    relative altitude, or when the camera looks less than ``min_pitch_deg`` below the
    horizon (façade shots: the distance to the wall is not known). The relative
    altitude is above the take-off point, so this assumes flat ground.
    """
    height = capture.position.relative_altitude_m if capture.position is not None else None
    if height is None or height <= 0:
        return None
    pitch = capture.attitude.gimbal_pitch
    if pitch is None:
        return height
    if -pitch < min_pitch_deg:
        return None
    return height / math.sin(math.radians(min(-pitch, 90.0)))
