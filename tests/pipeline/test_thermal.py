"""raw2temp: REFERENCE §4.2 vectors, every FLIR sample, flirimageextractor as an independent check."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

from core.errors import ThermalError
from flights.flir import read_flir
from flights.models import ThermalParameters
from pipeline.models import ThermalOverrides
from pipeline.thermal.radiometry import DEFAULTS, MeasurementParameters, celsius_to_raw, raw_to_celsius
from tests.samples import FLIR_RADIOMETRIC as FLIR_SAMPLES

THERMIMAGE = ThermalParameters(
    planck_r1=21106.77, planck_b=1501.0, planck_f=1.0, planck_o=-7340.0, planck_r2=0.012545258
)


def _params(**kw: float) -> MeasurementParameters:
    return MeasurementParameters.from_thermal(THERMIMAGE, ThermalOverrides(**kw))


def _reference_raw2temp(s: float, p: dict[str, float]) -> float:
    """REFERENCE.md §4.2 written out step by step, scalar, from exiftool's values."""
    r1, r2, b, f, o = p["PlanckR1"], p["PlanckR2"], p["PlanckB"], p["PlanckF"], p["PlanckO"]
    e, od, irt = p["Emissivity"], p["ObjectDistance"], p["IRWindowTransmission"]
    t_refl, t_atm, t_win = (
        p["ReflectedApparentTemperature"],
        p["AtmosphericTemperature"],
        p["IRWindowTemperature"],
    )
    rh = p["RelativeHumidity"] * 100.0  # exiftool -n gives a fraction
    ata1, ata2 = float(p["AtmosphericTransAlpha1"]), float(p["AtmosphericTransAlpha2"])
    atb1, atb2, atx = (
        float(p["AtmosphericTransBeta1"]),
        float(p["AtmosphericTransBeta2"]),
        p["AtmosphericTransX"],
    )
    h2o = (rh / 100) * math.exp(1.5587 + 0.06939 * t_atm - 0.00027816 * t_atm**2 + 0.00000068455 * t_atm**3)
    tau = atx * math.exp(-math.sqrt(od / 2) * (ata1 + atb1 * math.sqrt(h2o))) + (1 - atx) * math.exp(
        -math.sqrt(od / 2) * (ata2 + atb2 * math.sqrt(h2o))
    )

    def rb(t: float) -> float:
        return r1 / (r2 * (math.exp(b / (t + 273.15)) - f)) - o

    raw_obj = (
        s / (e * tau * irt * tau)
        - (1 - e) / e * rb(t_refl)
        - (1 - tau) / (e * tau) * rb(t_atm)
        - (1 - irt) / (e * tau * irt) * rb(t_win)
        - (1 - tau) / (e * tau * irt * tau) * rb(t_atm)
    )
    return b / math.log(r1 / (r2 * (raw_obj + o)) + f) - 273.15


def test_reference_vectors() -> None:
    common = {"reflected_temp_c": 20.0, "atmospheric_temp_c": 20.0, "ir_window_temp_c": 20.0}
    v1 = _params(
        emissivity=1.0, object_distance_m=0.0, ir_window_transmission=1.0, relative_humidity_pct=50, **common
    )
    v2 = _params(
        emissivity=0.95,
        object_distance_m=1.0,
        ir_window_transmission=0.96,
        relative_humidity_pct=50,
        **common,
    )
    v3 = _params(
        emissivity=0.95,
        object_distance_m=10.0,
        reflected_temp_c=-5.0,
        atmospheric_temp_c=2.0,
        ir_window_temp_c=2.0,
        ir_window_transmission=1.0,
        relative_humidity_pct=85,
    )
    raw = np.array([18109], dtype=np.uint16)
    assert raw_to_celsius(raw, v1)[0] == pytest.approx(23.62, abs=0.005)
    assert raw_to_celsius(raw, v2)[0] == pytest.approx(24.00, abs=0.005)
    assert raw_to_celsius(raw, v3)[0] == pytest.approx(25.33, abs=0.005)


def test_ir_2412_published_anchor(data_dir: Path) -> None:
    image = read_flir(data_dir / "thermimage/inst/extdata/IR_2412.jpg")
    params = MeasurementParameters.from_thermal(image.params)
    assert params.emissivity == pytest.approx(0.95)
    assert params.object_distance_m == 1.0 and params.relative_humidity_pct == pytest.approx(50.0)
    celsius = raw_to_celsius(image.raw, params)
    assert image.raw[0, 0] == 18090
    assert celsius[0, 0] == pytest.approx(23.73440586671677, abs=1e-4)
    assert celsius.dtype == np.float32


@pytest.mark.parametrize("name", FLIR_SAMPLES)
def test_every_sample_matches_the_model_with_exiftool_parameters(data_dir: Path, name: str) -> None:
    path = data_dir / name
    image = read_flir(path)
    celsius = raw_to_celsius(image.raw, MeasurementParameters.from_thermal(image.params))
    ref = json.loads(
        subprocess.run(["exiftool", "-n", "-j", str(path)], capture_output=True, check=True).stdout
    )[0]
    flat_raw, flat_c = image.raw.ravel(), celsius.ravel()
    picks = np.unique(
        np.concatenate(
            [
                np.linspace(0, flat_raw.size - 1, 400).astype(int),
                [int(flat_raw.argmin()), int(flat_raw.argmax())],
            ]
        )
    )
    expected = np.array([_reference_raw2temp(float(flat_raw[i]), ref) for i in picks])
    np.testing.assert_allclose(flat_c[picks], expected, atol=0.01)
    assert np.isfinite(celsius).all()


@pytest.mark.parametrize("name", FLIR_SAMPLES)
def test_flirimageextractor_raw2temp_agrees(data_dir: Path, name: str) -> None:
    """Independent implementation; it hard-codes the default atmosphere constants, so we use them too."""
    from flirimageextractor import FlirImageExtractor

    image = read_flir(data_dir / name)
    defaults = {k: DEFAULTS[k] for k in ("ata1", "ata2", "atb1", "atb2", "atx")}
    p = MeasurementParameters.from_thermal(image.params.model_copy(update=defaults))
    theirs = FlirImageExtractor.raw2temp(
        image.raw.astype(np.float64),
        E=p.emissivity,
        OD=p.object_distance_m,
        RTemp=p.reflected_temp_c,
        ATemp=p.atmospheric_temp_c,
        IRWTemp=p.ir_window_temp_c,
        IRT=p.ir_window_transmission,
        RH=p.relative_humidity_pct,
        PR1=p.planck_r1,
        PB=p.planck_b,
        PF=p.planck_f,
        PO=p.planck_o,
        PR2=p.planck_r2,
    )
    np.testing.assert_allclose(raw_to_celsius(image.raw, p), theirs, atol=0.01)


def test_lookup_table_equals_direct_evaluation(data_dir: Path) -> None:
    image = read_flir(data_dir / "thermal_parser/images/FLIR_T640.jpg")
    p = MeasurementParameters.from_thermal(image.params)
    assert image.raw.size >= 1 << 16
    np.testing.assert_array_equal(raw_to_celsius(image.raw, p), raw_to_celsius(image.raw.astype(np.int64), p))


def test_inverse_round_trip() -> None:
    p = _params(
        emissivity=0.9,
        object_distance_m=25.0,
        reflected_temp_c=3.0,
        atmospheric_temp_c=6.0,
        relative_humidity_pct=90.0,
        ir_window_transmission=0.9,
        ir_window_temp_c=4.0,
    )
    temps = np.linspace(-20.0, 120.0, 57)
    raw = celsius_to_raw(temps, p)
    np.testing.assert_allclose(raw_to_celsius(raw, p), temps, atol=1e-4)


def test_out_of_domain_counts_give_nan() -> None:
    p = _params(emissivity=0.5, reflected_temp_c=40.0)
    out = raw_to_celsius(np.array([0, 18109], dtype=np.uint16), p)
    assert math.isnan(out[0]) and math.isfinite(out[1])


def test_overrides_replace_file_values_and_record_sources(data_dir: Path) -> None:
    image = read_flir(data_dir / "thermal_parser/images/DJI_XT2.jpg")
    overrides = ThermalOverrides(emissivity=0.93, relative_humidity_pct=70.0, atmospheric_temp_c=4.0)
    p = MeasurementParameters.from_thermal(image.params, overrides, frame_distance_m=31.5)
    assert (p.emissivity, p.relative_humidity_pct, p.atmospheric_temp_c) == (0.93, 70.0, 4.0)
    assert p.object_distance_m == 31.5 and p.sources["object_distance_m"] == "frame"
    assert p.sources["emissivity"] == "override" and p.sources["planck_r1"] == "file"
    assert p.sources["reflected_temp_c"] == "file"
    fixed = MeasurementParameters.from_thermal(
        image.params, ThermalOverrides(object_distance_m=5.0), frame_distance_m=31.5
    )
    assert fixed.object_distance_m == 5.0 and fixed.sources["object_distance_m"] == "override"
    no_height = MeasurementParameters.from_thermal(
        image.params, ThermalOverrides(distance_from_height=False), frame_distance_m=31.5
    )
    assert no_height.object_distance_m == 20.0
    assert p.with_overrides(ThermalOverrides(emissivity=0.8)).sources["emissivity"] == "override"
    warmer = raw_to_celsius(
        image.raw, MeasurementParameters.from_thermal(image.params, ThermalOverrides(emissivity=0.7))
    )
    assert float(np.mean(warmer)) > float(
        np.mean(raw_to_celsius(image.raw, MeasurementParameters.from_thermal(image.params)))
    )


def test_missing_planck_and_bad_values_fail() -> None:
    with pytest.raises(ThermalError, match="missing Planck constants planck_r1"):
        MeasurementParameters.from_thermal(ThermalParameters(planck_b=1.0), ThermalOverrides())
    with pytest.raises(ValueError):
        ThermalOverrides(emissivity=1.5)
    defaults = MeasurementParameters.from_thermal(THERMIMAGE)
    assert defaults.sources["atmospheric_temp_c"] == "default" and defaults.atmospheric_temp_c == 20.0


def test_object_distance_not_exif_subject_distance(data_dir: Path) -> None:
    """flirimageextractor's image path uses EXIF SubjectDistance (absent: 1 m); we use FLIR ObjectDistance."""
    from flirimageextractor import FlirImageExtractor

    path = data_dir / "thermal_parser/images/DJI_XT2.jpg"
    image = read_flir(path)
    params = MeasurementParameters.from_thermal(image.params)
    assert params.object_distance_m == 20.0 and params.sources["object_distance_m"] == "file"
    fie = FlirImageExtractor()
    fie.loadfile(str(path))
    fie.fix_endian = False  # the XT2 stores raw little-endian words (TIFF variant)
    theirs_image_path = fie.extract_thermal_image()
    ours = raw_to_celsius(image.raw, params)
    assert float(np.max(np.abs(ours - theirs_image_path))) > 0.1  # their 1 m default is measurably off
    at_one_metre = MeasurementParameters.from_thermal(image.params, ThermalOverrides(object_distance_m=1.0))
    np.testing.assert_allclose(raw_to_celsius(image.raw, at_one_metre), theirs_image_path, atol=0.01)


def test_folded_constants_equal_the_step_by_step_model_over_random_parameters() -> None:
    rng = np.random.default_rng(42)
    for _ in range(200):
        tp = ThermalParameters(
            planck_r1=rng.uniform(12000, 25000),
            planck_r2=rng.uniform(0.008, 0.05),
            planck_b=rng.uniform(1350, 1550),
            planck_f=1.0,
            planck_o=rng.uniform(-8000, -200),
        )
        overrides = ThermalOverrides(
            emissivity=rng.uniform(0.6, 1.0),
            object_distance_m=rng.uniform(0, 100),
            reflected_temp_c=rng.uniform(-20, 40),
            atmospheric_temp_c=rng.uniform(-20, 35),
            ir_window_temp_c=rng.uniform(-10, 40),
            ir_window_transmission=rng.uniform(0.7, 1.0),
            relative_humidity_pct=rng.uniform(10, 100),
        )
        p = MeasurementParameters.from_thermal(tp, overrides)
        temps = rng.uniform(-10, 80, 5)
        raw = celsius_to_raw(temps, p)
        exif_like = {
            "PlanckR1": p.planck_r1,
            "PlanckR2": p.planck_r2,
            "PlanckB": p.planck_b,
            "PlanckF": p.planck_f,
            "PlanckO": p.planck_o,
            "Emissivity": p.emissivity,
            "ObjectDistance": p.object_distance_m,
            "IRWindowTransmission": p.ir_window_transmission,
            "ReflectedApparentTemperature": p.reflected_temp_c,
            "AtmosphericTemperature": p.atmospheric_temp_c,
            "IRWindowTemperature": p.ir_window_temp_c,
            "RelativeHumidity": p.relative_humidity_pct / 100,
            "AtmosphericTransAlpha1": p.ata1,
            "AtmosphericTransAlpha2": p.ata2,
            "AtmosphericTransBeta1": p.atb1,
            "AtmosphericTransBeta2": p.atb2,
            "AtmosphericTransX": p.atx,
        }
        expected = [_reference_raw2temp(float(s), exif_like) for s in raw]
        np.testing.assert_allclose(raw_to_celsius(raw, p), expected, atol=1e-4)
        np.testing.assert_allclose(expected, temps, atol=1e-6)
