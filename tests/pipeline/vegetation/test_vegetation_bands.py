"""Band identification, and plausible index ranges on real RGB and NIR-converted frames."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.errors import UsageError
from pipeline.vegetation import Band, compute_index, identify_bands, parse_band_spec


def test_filter_strings_as_in_webodm() -> None:
    assert parse_band_spec("NRG", 3).bands == {Band.NIR: 1, Band.RED: 2, Band.GREEN: 3}
    assert parse_band_spec("BGRReN", 6).bands == {
        Band.BLUE: 1, Band.GREEN: 2, Band.RED: 3, Band.REDEDGE: 4, Band.NIR: 5
    }  # fmt: skip
    assert parse_band_spec("red=3, nir=4", 4).bands == {Band.RED: 3, Band.NIR: 4}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("NRGX", "letters R, G, B, N and Re"),
        ("RGBN", "names 4 bands; the raster has 3"),
        ("red=5", "band 5 does not exist"),
        ("red=1,red=2", "red is given twice"),
        ("purple=1", "cannot read 'purple=1'"),
    ],
)
def test_bad_band_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_band_spec(spec, 3)


def test_identify_from_descriptions_wavelengths_and_colours() -> None:
    ms = identify_bands(
        ["Blue", "Green", "Red", "Red edge", "NIR", None], ["gray"] * 6, [None] * 6, "float32"
    )
    assert (ms.source, ms.bands[Band.REDEDGE], ms.bands[Band.NIR]) == ("description", 4, 5)
    waves = identify_bands([None] * 4, ["gray"] * 4, [560, 650, 730, 860], "uint16")  # Mavic 3M
    assert waves.bands == {Band.GREEN: 1, Band.RED: 2, Band.REDEDGE: 3, Band.NIR: 4}
    rgba = identify_bands([None] * 4, ["red", "green", "blue", "alpha"], [None] * 4, "uint8")
    assert (rgba.source, rgba.bands) == ("colorinterp", {Band.RED: 1, Band.GREEN: 2, Band.BLUE: 3})
    plain = identify_bands([None] * 3, ["gray", "undefined", "undefined"], [None] * 3, "uint8")
    assert plain.source == "assumed RGB"
    assert identify_bands([None], ["gray"], [None], "float32").bands == {}


def _frame(path: Path, step: int = 4) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None, path
    return image[::step, ::step, ::-1].astype(np.float32)  # RGB order, every 4th pixel


def test_rgb_indices_on_brighton_beach_are_plausible(data_dir: Path) -> None:
    """DJI FC300S frame: forest on the left, asphalt road, mown grass on the right."""
    rgb = _frame(data_dir / "brighton_beach" / "images" / "DJI_0018.JPG")
    bands = {Band.RED: rgb[..., 0], Band.GREEN: rgb[..., 1], Band.BLUE: rgb[..., 2]}
    h, w = rgb.shape[:2]
    rows = slice(h // 10, 9 * h // 10)
    forest, road, grass = (rows, slice(w // 20, 6 * w // 10)), (rows, slice(77 * w // 100, 83 * w // 100)), (
        rows, slice(92 * w // 100, 98 * w // 100))  # fmt: skip
    for name in ("ExG", "VARI", "GLI", "NGRDI"):
        values = compute_index(name, bands)
        med = {
            k: float(np.nanmedian(values[r]))
            for k, r in (("forest", forest), ("road", road), ("grass", grass))
        }
        assert med["forest"] > 0.1 and med["grass"] > 0.04, (name, med)  # green vegetation is positive
        assert abs(med["road"]) < 0.06, (name, med)  # grey asphalt is about 0
        assert med["forest"] > med["road"] + 0.1, (name, med)
        lo, hi = np.nanpercentile(values, [1, 99])
        assert -0.3 < lo < 0 < hi < 1.0, (name, lo, hi)


def test_ndvi_on_the_nir_converted_seneca_camera_is_plausible(data_dir: Path) -> None:
    """Canon ELPH 300 HS converted to NIR: channel 1 carries NIR (a grass strip is brightest there).

    Early June, bare farm soil with a grass strip along the lower left: soil NDVI about 0,
    grass clearly positive, nothing outside [-1, 1].
    """
    image = _frame(data_dir / "odm_data_seneca" / "images" / "IMG_0447.jpg")
    mapping = parse_band_spec("NRG", 3).bands
    bands = {band: image[..., n - 1] for band, n in mapping.items()}
    ndvi = compute_index("NDVI", bands)
    h, w = ndvi.shape
    grass = ndvi[int(h * 0.67) : int(h * 0.89), int(w * 0.13) : int(w * 0.20)]
    soil = ndvi[int(h * 0.15) : int(h * 0.45), int(w * 0.45) : int(w * 0.78)]
    assert 0.2 < float(np.nanmedian(grass)) < 0.6
    assert -0.1 < float(np.nanmedian(soil)) < 0.1
    assert np.nanmin(ndvi) >= -1 and np.nanmax(ndvi) <= 1
    # read as if it were a plain RGB camera, the same grass looks red, not green: the filter matters
    as_rgb = {Band.RED: image[..., 0], Band.GREEN: image[..., 1], Band.BLUE: image[..., 2]}
    assert (
        float(
            np.nanmedian(
                compute_index("GLI", as_rgb)[int(h * 0.67) : int(h * 0.89), int(w * 0.13) : int(w * 0.20)]
            )
        )
        < 0
    )
