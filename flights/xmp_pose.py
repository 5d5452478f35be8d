"""Turn flat XMP properties into the capture models: attitude, RTK, velocity, camera.

Conventions (REFERENCE.md §2.2):

- DJI ``drone-dji`` angles are stored as given: NED degrees, gimbal pitch -90 = nadir.
- senseFly/Pix4D ``Camera:Yaw/Pitch/Roll`` use pitch 0 = nadir [U: inferred from
  eBee frames, which hang the camera nadir and record pitch within a few degrees of
  0; Orthority documents the conversion as approximate]. They are mapped to our
  convention as gimbal_pitch = Camera:Pitch - 90; yaw and roll are kept.
- senseFly autopilot ``sensefly:Heading/PitchAngle/RollAngle`` is the aircraft
  attitude and fills the flight_* fields.
"""

from __future__ import annotations

import math
from itertools import repeat
from pathlib import Path
from typing import TypedDict

from core.errors import MetadataError
from flights.models import Attitude, CameraInfo, Rtk, Velocity
from flights.sensors import SENSORS
from flights.xmp import XmpValues, xmp_float

DJI = "drone-dji:"
#: Every numeric property read from XMP; all are validated even when unused (a frame
#: without GPS still has a malformed RelativeAltitude reported).
_DJI_NUMBERS = (
    "AbsoluteAltitude RelativeAltitude GimbalYawDegree GimbalPitchDegree GimbalRollDegree "
    "FlightYawDegree FlightPitchDegree FlightRollDegree FlightXSpeed FlightYSpeed FlightZSpeed "
    "RtkFlag RtkStdLon RtkStdLat RtkStdHgt CalibratedFocalLength CalibratedOpticalCenterX "
    "CalibratedOpticalCenterY DewarpFlag GpsLatitude GPSLatitude Latitude GpsLongitude "
    "GPSLongitude GpsLongtitude GPSLongtitude Longitude"
)
NUMERIC_KEYS = tuple(DJI + k for k in _DJI_NUMBERS.split()) + (
    "Camera:Yaw",
    "Camera:Pitch",
    "Camera:Roll",
    "sensefly:Heading",
    "sensefly:PitchAngle",
    "sensefly:RollAngle",
)
_NUMERIC = frozenset(NUMERIC_KEYS)

_RTK_KEYS = frozenset(
    DJI + k for k in ("RtkFlag", "RtkStdLat", "RtkStdLon", "RtkStdHgt", "GpsStatus", "AltitudeType")
)
# frozen models given to every frame that has none of the values (built once, like the defaults)
_NO_ATTITUDE, _NO_RTK, _NO_VELOCITY = Attitude(), Rtk(), Velocity()
_DJI_WITHOUT_RTK = Rtk(
    flag=None, std_lat_m=None, std_lon_m=None, std_hgt_m=None, gps_status=None, altitude_type=None
)


def check_numbers(xmp: XmpValues, path: Path) -> None:
    """Raise MetadataError for the first numeric property that is not a finite number."""
    for key in NUMERIC_KEYS:
        if key in xmp:
            xmp_float(xmp, key, path)


def xmp_numbers(xmp: XmpValues, path: Path) -> dict[str, float]:
    """Every property of ``NUMERIC_KEYS`` that is present and not empty, as a finite float.

    The properties are converted once here; :func:`attitude_from`, :func:`rtk_from`,
    :func:`velocity_from`, :func:`camera_from` and :func:`flights.exif.position_from` look
    the numbers up.

    Raises:
        MetadataError: for the first property (in ``NUMERIC_KEYS`` order) that is not a
            finite number, as :func:`check_numbers` does.
    """
    try:
        return {key: _finite(xmp[key]) for key in _NUMERIC.intersection(xmp) if xmp[key]}
    except ValueError:  # one is bad: which one is reported does not depend on set order
        check_numbers(xmp, path)
        raise


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def number_int(numbers: dict[str, float], xmp: XmpValues, key: str, path: Path) -> int | None:
    """An integer property from :func:`xmp_numbers` (``"50"`` or ``"50.0"``), None when absent.

    Raises:
        MetadataError: The property is not an integer (as :func:`flights.xmp.xmp_int`).
    """
    value = numbers.get(key)
    if value is None:
        return None
    if value != int(value):
        raise MetadataError(f"{path}: XMP {key}={xmp[key]!r} is not an integer")
    return int(value)


def attitude_from(xmp: XmpValues, numbers: dict[str, float]) -> Attitude:
    """Gimbal and flight attitude from DJI, senseFly ``Camera`` or ``sensefly`` XMP (numbers: xmp_numbers)."""
    get = numbers.get
    if DJI + "GimbalPitchDegree" in xmp or DJI + "GimbalYawDegree" in xmp or DJI + "FlightYawDegree" in xmp:
        return Attitude(
            gimbal_yaw=get(DJI + "GimbalYawDegree"),
            gimbal_pitch=get(DJI + "GimbalPitchDegree"),
            gimbal_roll=get(DJI + "GimbalRollDegree"),
            flight_yaw=get(DJI + "FlightYawDegree"),
            flight_pitch=get(DJI + "FlightPitchDegree"),
            flight_roll=get(DJI + "FlightRollDegree"),
            source="drone-dji",
        )
    if "Camera:Pitch" in xmp or "Camera:Yaw" in xmp:
        pitch = get("Camera:Pitch")
        return Attitude(
            gimbal_yaw=get("Camera:Yaw"),
            gimbal_pitch=None if pitch is None else pitch - 90.0,
            gimbal_roll=get("Camera:Roll"),
            source="camera",
        )
    if "sensefly:Heading" in xmp:
        return Attitude(
            flight_yaw=get("sensefly:Heading"),
            flight_pitch=get("sensefly:PitchAngle"),
            flight_roll=get("sensefly:RollAngle"),
            source="sensefly",
        )
    return _NO_ATTITUDE


def rtk_from(xmp: XmpValues, numbers: dict[str, float], path: Path) -> Rtk:
    """RTK flag, standard deviations, GPS status and altitude type (DJI).

    Raises:
        MetadataError: RtkFlag is not an integer.
    """
    if not any(map(str.startswith, xmp, repeat(DJI))):
        return _NO_RTK
    if _RTK_KEYS.isdisjoint(xmp):  # DJI frames without RTK: the same (frozen) answer each time
        return _DJI_WITHOUT_RTK
    return Rtk(
        flag=number_int(numbers, xmp, DJI + "RtkFlag", path),
        std_lat_m=numbers.get(DJI + "RtkStdLat"),
        std_lon_m=numbers.get(DJI + "RtkStdLon"),
        std_hgt_m=numbers.get(DJI + "RtkStdHgt"),
        gps_status=xmp.get(DJI + "GpsStatus") or None,
        altitude_type=xmp.get(DJI + "AltitudeType") or None,
    )


def velocity_from(xmp: XmpValues, numbers: dict[str, float]) -> Velocity:
    """Aircraft speed (DJI FlightX/Y/ZSpeed, m/s)."""
    if DJI + "FlightXSpeed" not in xmp:
        return _NO_VELOCITY
    return Velocity(
        x=numbers.get(DJI + "FlightXSpeed"),
        y=numbers.get(DJI + "FlightYSpeed"),
        z=numbers.get(DJI + "FlightZSpeed"),
    )


class RecordedCamera(TypedDict):
    """Camera and lens as IFD0/EXIF recorded them: the first fields of :class:`CameraInfo`."""

    make: str | None
    model: str | None
    width: int | None
    height: int | None
    focal_length_mm: float | None
    focal_length_35mm: float | None
    exposure_time_s: float | None


def camera_from(
    recorded: RecordedCamera, xmp: XmpValues, numbers: dict[str, float], path: Path
) -> CameraInfo:
    """The camera as EXIF recorded it, completed from DJI's XMP calibration and the sensor profile.

    Args:
        recorded: make, model, image size, focal lengths and exposure time from IFD0/EXIF.
        xmp: the file's XMP values.
        numbers: its numeric XMP values (:func:`xmp_numbers`).
        path: the file, named in messages.

    Raises:
        MetadataError: DewarpFlag is not an integer.
    """
    source = xmp.get(DJI + "ImageSource")
    profile = SENSORS.get(recorded["make"], recorded["model"], image_source=source, width=recorded["width"])
    return CameraInfo(
        **recorded,
        calibrated_focal_px=numbers.get(DJI + "CalibratedFocalLength"),
        optical_center_x=numbers.get(DJI + "CalibratedOpticalCenterX"),
        optical_center_y=numbers.get(DJI + "CalibratedOpticalCenterY"),
        dewarp_data=xmp.get(DJI + "DewarpData") or None,
        dewarp_flag=number_int(numbers, xmp, DJI + "DewarpFlag", path),
        sensor_width_mm=profile.sensor_width_mm if profile else None,
        pixel_pitch_um=profile.pixel_pitch_um if profile else None,
        image_source=source or None,
    )
