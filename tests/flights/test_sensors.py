from __future__ import annotations

import pytest

from flights.sensors import SENSORS, SensorProfile, SensorRegistry


@pytest.mark.parametrize(
    ("make", "model", "width_mm"),
    [
        ("DJI", "FC300S", 6.17),
        ("DJI", "FC6310", 13.2),
        ("DJI", "FC6310R", 13.2),
        ("DJI", "FC6310S", 13.2),
        ("DJI", "FC8482", 9.6),
        ("DJI", "FC220", 6.17),
        ("DJI", "FC330", 6.17),
        ("Hasselblad", "L1D-20c", 13.2),
        ("DJI", "FC7303", 6.17),
        ("Canon", "Canon PowerShot S110", 7.44),
        ("Canon", "Canon PowerShot ELPH 300 HS", 6.17),
        ("Canon", "Canon PowerShot SX260 HS", 6.17),
        ("Apple", "iPhone 4S", 4.54),
        ("senseFly", "S.O.D.A.", 13.2),
    ],
)
def test_known_rgb_cameras(make: str, model: str, width_mm: float) -> None:
    profile = SENSORS.get(make, model)
    assert profile is not None
    assert profile.sensor_width_mm == width_mm
    assert profile.kind == "rgb"
    assert profile.native_width is not None
    assert profile.pixel_pitch_um == pytest.approx(width_mm / profile.native_width * 1000, abs=1e-3)


@pytest.mark.parametrize(
    ("model", "pitch", "decoder"),
    [
        ("FLIR", 17.0, "flir"),  # XT2 / XT R as they label themselves
        ("XT2", 17.0, "flir"),
        ("XT S", 17.0, "dji"),
        ("ZH20T", 12.0, "dji"),
        ("MAVIC2-ENTERPRISE-ADVANCED", 12.0, "dji"),
        ("M30T", 12.0, "dji"),
        ("M3T", 12.0, "dji"),
        ("M4T", 12.0, "dji"),
    ],
)
def test_thermal_cores(model: str, pitch: float, decoder: str) -> None:
    profile = SENSORS.get("DJI", model, image_source="InfraredCamera")
    assert profile is not None
    assert (profile.kind, profile.pixel_pitch_um, profile.thermal_decoder) == ("thermal", pitch, decoder)
    assert profile.native_width in (640, 1280)


def test_flir_duo_pro_r() -> None:
    profile = SENSORS.get("FLIR", "Duo Pro R")
    assert profile is not None and profile.sensor_width_mm == pytest.approx(10.88)


def test_lookup_ignores_case_spaces_and_make_prefix() -> None:
    assert SENSORS.get("canon", "canon powershot s110") == SENSORS.get("Canon", "PowerShot S110")
    assert SENSORS.get("dji", "fc-6310") == SENSORS.get("DJI", "FC6310")


def test_unknown_and_missing() -> None:
    assert SENSORS.get("Acme", "Cam 1") is None
    assert SENSORS.get(None, "FC6310") is None
    assert SENSORS.get("DJI", None) is None


def test_register_returns_a_new_registry() -> None:
    extra = SensorProfile("Acme", "Cam 1", 10.0, 7.5, 2.5)
    bigger = SENSORS.register(extra)
    assert bigger.get("Acme", "Cam 1") == extra
    assert SENSORS.get("Acme", "Cam 1") is None
    assert len(bigger) == len(SENSORS) + 1
    assert ("acme", "cam 1") in bigger


def test_register_refuses_duplicates_unless_overwrite() -> None:
    changed = SensorProfile("DJI", "FC6310", 13.2, 8.8, 2.5)
    with pytest.raises(ValueError, match="already registered"):
        SENSORS.register(changed)
    assert SENSORS.register(changed, overwrite=True).get("DJI", "FC6310") == changed
    assert SENSORS.get("DJI", "FC6310") != changed


def test_profiles_are_immutable() -> None:
    profile = SENSORS.get("DJI", "FC6310")
    assert profile is not None
    with pytest.raises(AttributeError):
        profile.sensor_width_mm = 1.0  # type: ignore[misc]
    assert isinstance(SensorRegistry(list(SENSORS)), SensorRegistry)


@pytest.mark.parametrize(
    ("model", "source", "width", "kind"),
    [
        ("M3T", "InfraredCamera", None, "thermal"),
        ("M3T", "WideCamera", None, "rgb"),
        ("M3T", None, 640, "thermal"),
        ("M3T", None, 8000, "rgb"),
        ("M30T", None, 1280, "thermal"),  # the M30T's upscaled thermal JPEG
        ("M30T", None, 4000, "rgb"),
        ("ZH20T", None, 640, "thermal"),
        ("ZH20T", "ZoomCamera", None, None),  # the zoom camera is not registered: unknown, not the wide one
        ("FC6310", "WideCamera", None, "rgb"),
    ],
)
def test_multi_sensor_payloads_pick_the_right_core(
    model: str, source: str | None, width: int | None, kind: str | None
) -> None:
    profile = SENSORS.get("DJI", model, image_source=source, width=width)
    assert (profile.kind if profile else None) == kind


def test_thermal_only_model_with_a_visible_width_is_unknown() -> None:
    assert SENSORS.get("DJI", "M4T", width=4032) is None  # no visible M4T profile: unknown beats wrong
    assert (
        SENSORS.get("DJI", "M4T") is not None and SENSORS.get("DJI", "M3T") is None
    )  # ambiguous without hints
