"""Index formulas: exact values on known colours and reflectances, against numpy written here."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import UsageError
from pipeline.vegetation.indices import INDICES, VARI_EPS, Band, compute_index, index_spec

# Known colours (R, G, B) as 8-bit DNs: grass, dark conifer, bare soil, asphalt, pure green, black.
COLOURS = np.array(
    [[70, 140, 50], [30, 60, 35], [150, 120, 90], [90, 90, 95], [0, 255, 0], [0, 0, 0]], dtype=np.float64
)
# Reflectances (blue, green, red, red edge, NIR): healthy leaf, stressed leaf, dry soil, water.
REFLECTANCES = np.array(
    [[0.04, 0.10, 0.05, 0.30, 0.50], [0.06, 0.12, 0.10, 0.25, 0.35], [0.15, 0.20, 0.25, 0.28, 0.30],
     [0.06, 0.05, 0.03, 0.02, 0.01]]
)  # fmt: skip


def _rgb() -> dict[Band, np.ndarray]:
    return {Band.RED: COLOURS[:, 0], Band.GREEN: COLOURS[:, 1], Band.BLUE: COLOURS[:, 2]}


def _ms() -> dict[Band, np.ndarray]:
    return dict(zip((Band.BLUE, Band.GREEN, Band.RED, Band.REDEDGE, Band.NIR), REFLECTANCES.T, strict=True))


def _expected_rgb(name: str) -> np.ndarray:
    r, g, b = COLOURS.T
    with np.errstate(divide="ignore", invalid="ignore"):
        total = r + g + b
        if name == "ExG":
            out = 2 * g / total - r / total - b / total
        elif name == "VARI":
            den = g + r - b
            out = np.clip((g - r) / den, -1, 1)
            out[np.abs(den) < VARI_EPS * total] = np.nan
        elif name == "GLI":
            out = (2 * g - r - b) / (2 * g + r + b)
        else:  # NGRDI
            out = (g - r) / (g + r)
    out[total == 0] = np.nan
    return out


@pytest.mark.parametrize("name", ["ExG", "VARI", "GLI", "NGRDI"])
def test_rgb_indices_on_known_colours(name: str) -> None:
    got = compute_index(name, _rgb())
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, _expected_rgb(name), rtol=1e-6, atol=1e-6, equal_nan=True)


def test_rgb_index_values_by_hand() -> None:
    # pure green: r=0, g=1, b=0 -> ExG 2 (top of its range), GLI 1, NGRDI 1, VARI 1
    green = {Band.RED: np.array([0.0]), Band.GREEN: np.array([255.0]), Band.BLUE: np.array([0.0])}
    assert [float(compute_index(n, green)[0]) for n in ("ExG", "GLI", "NGRDI", "VARI")] == [
        2.0,
        1.0,
        1.0,
        1.0,
    ]
    # grey: every index 0 except VARI (G+R-B = grey: defined, 0)
    grey = {b: np.array([100.0]) for b in (Band.RED, Band.GREEN, Band.BLUE)}
    assert [float(compute_index(n, grey)[0]) for n in ("ExG", "GLI", "NGRDI", "VARI")] == [0.0, 0.0, 0.0, 0.0]
    # grass (70, 140, 50): r=.2692 g=.5385 b=.1923 -> ExG = 0.6154
    assert float(compute_index("ExG", _rgb())[0]) == pytest.approx(
        2 * 140 / 260 - 70 / 260 - 50 / 260, abs=1e-6
    )


def test_rgb_indices_do_not_depend_on_exposure() -> None:
    bright = {k: v * 1.7 for k, v in _rgb().items()}
    for name in ("ExG", "VARI", "GLI", "NGRDI"):
        np.testing.assert_allclose(compute_index(name, bright), compute_index(name, _rgb()), atol=1e-6)


@pytest.mark.parametrize(
    ("name", "formula"),
    [
        ("NDVI", lambda b, g, r, re, n: (n - r) / (n + r)),
        ("NDRE", lambda b, g, r, re, n: (n - re) / (n + re)),
        ("GNDVI", lambda b, g, r, re, n: (n - g) / (n + g)),
        ("SAVI", lambda b, g, r, re, n: 1.5 * (n - r) / (n + r + 0.5)),
    ],
)
def test_multispectral_indices_on_known_reflectances(name: str, formula: object) -> None:
    expected = formula(*REFLECTANCES.T)  # type: ignore[operator]
    np.testing.assert_allclose(compute_index(name, _ms()), expected, rtol=1e-6)


def test_healthy_leaf_ndvi_by_hand() -> None:
    assert float(compute_index("NDVI", _ms())[0]) == pytest.approx((0.50 - 0.05) / 0.55, abs=1e-6)
    assert float(compute_index("NDVI", _ms())[3]) < 0  # water


def test_nodata_and_zero_denominators_are_nan() -> None:
    bands = {Band.NIR: np.array([np.nan, 0.0, 0.4]), Band.RED: np.array([0.1, 0.0, 0.1])}
    got = compute_index("NDVI", bands)
    assert np.isnan(got[0]) and np.isnan(got[1]) and got[2] == pytest.approx(0.6)
    # VARI where G + R - B is about 0 (a blue roof): masked instead of exploding
    blue_roof = {Band.RED: np.array([60.0]), Band.GREEN: np.array([80.0]), Band.BLUE: np.array([139.0])}
    assert np.isnan(compute_index("VARI", blue_roof)[0])


def test_values_stay_in_documented_range() -> None:
    rng = np.random.default_rng(1)
    rgb = {b: rng.integers(0, 256, 10_000).astype(float) for b in (Band.RED, Band.GREEN, Band.BLUE)}
    ms = {b: rng.random(10_000) for b in Band}
    for spec in INDICES.values():
        values = compute_index(spec.name, ms if spec.multispectral else rgb)
        finite = values[np.isfinite(values)]
        assert finite.min() >= spec.vmin - 1e-6 and finite.max() <= spec.vmax + 1e-6, spec.name
        assert spec.display[0] == -spec.display[1]  # diverging legends centre on 0


def test_unknown_index_and_missing_band_are_clear() -> None:
    with pytest.raises(UsageError, match="unknown vegetation index 'NDWI'.*ExG"):
        index_spec("NDWI")
    with pytest.raises(UsageError, match="NDRE needs band.*rededge"):
        compute_index("ndre", {Band.NIR: np.ones(2), Band.RED: np.ones(2)})
