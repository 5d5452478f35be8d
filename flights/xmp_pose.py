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

from pathlib import Path
from typing import TypedDict

from flights.models import Attitude, CameraInfo, Rtk, Velocity
from flights.sensors import SENSORS
from flights.xmp import XmpValues, xmp_float, xmp_int

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


def check_numbers(xmp: XmpValues, path: Path) -> None:
    """Raise MetadataError for the first numeric property that is not a finite number."""
    for key in NUMERIC_KEYS:
        if key in xmp:
            xmp_float(xmp, key, path)


def attitude_from(xmp: XmpValues, path: Path) -> Attitude:
    """Gimbal and flight attitude from DJI, senseFly ``Camera`` or ``sensefly`` XMP."""
    if any(k in xmp for k in (DJI + "GimbalPitchDegree", DJI + "GimbalYawDegree", DJI + "FlightYawDegree")):
        return Attitude(
            gimbal_yaw=xmp_float(xmp, DJI + "GimbalYawDegree", path),
            gimbal_pitch=xmp_float(xmp, DJI + "GimbalPitchDegree", path),
            gimbal_roll=xmp_float(xmp, DJI + "GimbalRollDegree", path),
            flight_yaw=xmp_float(xmp, DJI + "FlightYawDegree", path),
            flight_pitch=xmp_float(xmp, DJI + "FlightPitchDegree", path),
            flight_roll=xmp_float(xmp, DJI + "FlightRollDegree", path),
            source="drone-dji",
        )
    if "Camera:Pitch" in xmp or "Camera:Yaw" in xmp:
        pitch = xmp_float(xmp, "Camera:Pitch", path)
        return Attitude(
            gimbal_yaw=xmp_float(xmp, "Camera:Yaw", path),
            gimbal_pitch=None if pitch is None else pitch - 90.0,
            gimbal_roll=xmp_float(xmp, "Camera:Roll", path),
            source="camera",
        )
    if "sensefly:Heading" in xmp:
        return Attitude(
            flight_yaw=xmp_float(xmp, "sensefly:Heading", path),
            flight_pitch=xmp_float(xmp, "sensefly:PitchAngle", path),
            flight_roll=xmp_float(xmp, "sensefly:RollAngle", path),
            source="sensefly",
        )
    return Attitude()


def rtk_from(xmp: XmpValues, path: Path) -> Rtk:
    """RTK flag, standard deviations, GPS status and altitude type (DJI)."""
    if not any(k.startswith(DJI) for k in xmp):
        return Rtk()
    return Rtk(
        flag=xmp_int(xmp, DJI + "RtkFlag", path),
        std_lat_m=xmp_float(xmp, DJI + "RtkStdLat", path),
        std_lon_m=xmp_float(xmp, DJI + "RtkStdLon", path),
        std_hgt_m=xmp_float(xmp, DJI + "RtkStdHgt", path),
        gps_status=xmp.get(DJI + "GpsStatus") or None,
        altitude_type=xmp.get(DJI + "AltitudeType") or None,
    )


def velocity_from(xmp: XmpValues, path: Path) -> Velocity:
    """Aircraft speed (DJI FlightX/Y/ZSpeed, m/s)."""
    if DJI + "FlightXSpeed" not in xmp:
        return Velocity()
    return Velocity(
        x=xmp_float(xmp, DJI + "FlightXSpeed", path),
        y=xmp_float(xmp, DJI + "FlightYSpeed", path),
        z=xmp_float(xmp, DJI + "FlightZSpeed", path),
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


def camera_from(recorded: RecordedCamera, xmp: XmpValues, path: Path) -> CameraInfo:
    """The camera as EXIF recorded it, completed from DJI's XMP calibration and the sensor profile.

    Args:
        recorded: make, model, image size, focal lengths and exposure time from IFD0/EXIF.
        xmp: the file's XMP values.
        path: the file, named in messages.
    """
    source = xmp.get(DJI + "ImageSource")
    profile = SENSORS.get(recorded["make"], recorded["model"], image_source=source, width=recorded["width"])
    return CameraInfo(
        **recorded,
        calibrated_focal_px=xmp_float(xmp, DJI + "CalibratedFocalLength", path),
        optical_center_x=xmp_float(xmp, DJI + "CalibratedOpticalCenterX", path),
        optical_center_y=xmp_float(xmp, DJI + "CalibratedOpticalCenterY", path),
        dewarp_data=xmp.get(DJI + "DewarpData") or None,
        dewarp_flag=xmp_int(xmp, DJI + "DewarpFlag", path),
        sensor_width_mm=profile.sensor_width_mm if profile else None,
        pixel_pitch_um=profile.pixel_pitch_um if profile else None,
        image_source=source or None,
    )
