"""Reflectance of one multispectral band frame, read from its file (the I/O side of ``reflectance``)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import rasterio
from numpy.typing import NDArray
from rasterio.errors import NotGeoreferencedWarning, RasterioError

from core.errors import RasterInputError
from pipeline.vegetation.frames import BandFrame, read_band_frame
from pipeline.vegetation.reflectance import SIGNALS, Calibration, to_reflectance


class ReflectanceFrame(NamedTuple):
    """A band frame's metadata, its reflectance (or signal) and how it was calibrated."""

    frame: BandFrame
    values: NDArray[np.float64]
    calibration: Calibration


def read_dn(path: Path) -> NDArray[np.uint16]:
    """The raw DNs of a single-band frame.

    Raises:
        RasterInputError: unreadable, or not a single-band image.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                if src.count != 1:
                    raise RasterInputError(f"{path}: a band frame has 1 band, this file has {src.count}")
                data: NDArray[np.uint16] = src.read(1)
    except RasterioError as exc:
        raise RasterInputError(f"{path}: cannot read pixels: {exc}") from exc
    return data


def frame_reflectance(path: Path, *, panel: float | None = None) -> ReflectanceFrame:
    """Reflectance of the band frame at ``path`` (see :mod:`pipeline.vegetation.reflectance`).

    Args:
        path: a MicaSense / DJI / Sequoia band frame.
        panel: reflectance per unit signal from a calibration panel (``panel_factor``), if flown.
    """
    frame = read_band_frame(Path(path))
    signal = SIGNALS[frame.vendor](read_dn(Path(path)), frame)
    values, calibration = to_reflectance(signal, frame, panel=panel)
    return ReflectanceFrame(frame, values, calibration)
