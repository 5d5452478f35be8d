from __future__ import annotations

import cv2
import numpy as np

from webgis_export.legend import legend_png
from webgis_export.models import Style
from webgis_export.render import colormap_lut


def _decode(png: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image[..., ::-1]


def test_thermal_legend_uses_the_tile_colours() -> None:
    style = Style(colormap="inferno", vmin=-5.0, vmax=25.0, unit="°C")
    image = _decode(legend_png(style, "Thermal", "Temperature (°C)"))
    assert image.shape[:2] == (320, 160)
    lut = colormap_lut("inferno")
    pixels = image.reshape(-1, 3).astype(int)
    for colour in (lut[2], lut[128], lut[253]):  # both ends (inside the frame) and the middle are drawn
        assert np.abs(pixels - colour.astype(int)).sum(axis=1).min() <= 6


def test_rgb_legend_is_a_note() -> None:
    image = _decode(legend_png(Style(), "Orthophoto"))
    assert image.shape[:2] == (320, 160)
    lut = colormap_lut("viridis")
    assert np.abs(image.reshape(-1, 3).astype(int) - lut[0].astype(int)).sum(axis=1).min() > 30
