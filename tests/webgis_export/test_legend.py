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


def _margins_blank(image: np.ndarray) -> bool:
    """Nothing touches the image's edges: no label, tick or title was cut off."""
    edges = np.concatenate(
        [
            image[:2].reshape(-1, 3),
            image[-2:].reshape(-1, 3),
            image[:, :2].reshape(-1, 3),
            image[:, -2:].reshape(-1, 3),
        ]
    )
    return bool((edges >= 250).all())


def test_thermal_legend_uses_the_tile_colours() -> None:
    style = Style(colormap="inferno", vmin=-5.0, vmax=25.0, unit="°C")
    image = _decode(legend_png(style, "Thermal", "Temperature (°C)"))
    assert image.shape[0] > 250 and image.shape[0] > image.shape[1]  # a vertical colour bar
    assert _margins_blank(image)
    lut = colormap_lut("inferno")
    pixels = image.reshape(-1, 3).astype(int)
    for colour in (lut[2], lut[128], lut[253]):  # both ends (inside the frame) and the middle are drawn
        assert np.abs(pixels - colour.astype(int)).sum(axis=1).min() <= 6


def test_long_titles_and_labels_are_never_clipped() -> None:
    """The issue's clipped legend title: a long title wraps and the image grows to hold it."""
    style = Style(colormap="inferno", vmin=-12.5, vmax=1234.5, unit="°C")
    short = _decode(legend_png(style, "Roof", "Temperatur (°C)"))
    long = _decode(
        legend_png(style, "Termografi, Skanderborg Rådhus og Adelgade, 3. dec. 2026", "Temperatur (°C)")
    )
    assert _margins_blank(short) and _margins_blank(long)
    assert long.shape[0] > short.shape[0]  # the wrapped title takes more lines, inside the image


def test_rgb_legend_is_a_note() -> None:
    image = _decode(legend_png(Style(), "Orthophoto"))
    assert image.shape[0] > 0 and _margins_blank(image)
    lut = colormap_lut("viridis")
    assert np.abs(image.reshape(-1, 3).astype(int) - lut[0].astype(int)).sum(axis=1).min() > 30
