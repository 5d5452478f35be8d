"""Pinhole camera intrinsics and Brown (OpenCV) distortion, from a Capture's ``CameraInfo``.

Pixel coordinates follow the GDAL/OpenCV "corner" convention used throughout dronegis: the
top-left corner of the image is (0, 0), the centre of the first pixel is (0.5, 0.5) and the
image centre is (W/2, H/2). Normalised camera coordinates are x right, y down, z forward.

Intrinsics, in order of preference (``PinholeCamera.source`` records the choice):

1. ``dewarp``: DJI ``DewarpData`` (fx, fy, cx/cy **offsets from the image centre**, k1 k2 p1
   p2 k3). The distortion coefficients belong to these intrinsics, so they come together.
   With ``DewarpFlag = 1`` the image is already undistorted: the coefficients are dropped.
2. ``calibrated``: XMP ``CalibratedFocalLength`` (pixels) and ``CalibratedOpticalCenterX/Y``.
3. ``focal+sensor``: EXIF focal length (mm) and the registry's sensor width (mm).
4. ``focal35``: 35 mm equivalent on the long side W, ``fx = F35 * W / 34.6`` for sensors
   narrower than 3:2 (the 4:3 sensors of most drones, and their 16:9 crops) and
   ``F35 * W / 36`` for 3:2 and wider, as Pix4D does (REFERENCE §1.6). ODM always divides
   by 36, 4 % off on 4:3 sensors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from core.errors import GeoreferenceError
from flights.models import CameraInfo

FloatArray = NDArray[np.float64]
ASPECT_3_2 = 1.45


@dataclass(frozen=True, slots=True)
class BrownDistortion:
    """OpenCV/Brown radial-tangential coefficients on normalised coordinates."""

    k1: float = 0.0
    k2: float = 0.0
    p1: float = 0.0
    p2: float = 0.0
    k3: float = 0.0

    def coefficients(self) -> FloatArray:
        """OpenCV order (k1, k2, p1, p2, k3)."""
        return np.array([self.k1, self.k2, self.p1, self.p2, self.k3], dtype=np.float64)

    @property
    def is_zero(self) -> bool:
        """True when every coefficient is zero."""
        return not any((self.k1, self.k2, self.p1, self.p2, self.k3))


@dataclass(frozen=True, slots=True)
class PinholeCamera:
    """Intrinsics of one frame: focal lengths and principal point in pixels, plus distortion."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    distortion: BrownDistortion | None = None
    source: str = "calibrated"
    pixel_pitch_m: float | None = None

    def normalised(self, u: FloatArray, v: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Undistorted normalised coordinates (x/z, y/z) of pixel positions (u, v)."""
        u, v = np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
        if self.distortion is None or self.distortion.is_zero:
            return (u - self.cx) / self.fx, (v - self.cy) / self.fy
        return undistort((u - self.cx) / self.fx, (v - self.cy) / self.fy, self.distortion)

    def pixels(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Pixel positions of normalised coordinates, distortion applied (the inverse of ``normalised``)."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if self.distortion is not None and not self.distortion.is_zero:
            x, y = distort(x, y, self.distortion)
        return self.fx * x + self.cx, self.fy * y + self.cy

    def matrix(self) -> FloatArray:
        """The 3x3 intrinsic matrix K."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])


def distort(x: FloatArray, y: FloatArray, d: BrownDistortion) -> tuple[FloatArray, FloatArray]:
    """Apply Brown distortion to normalised coordinates (OpenCV's formula)."""
    r2 = x * x + y * y
    radial = 1 + d.k1 * r2 + d.k2 * r2 * r2 + d.k3 * r2 * r2 * r2
    xd = x * radial + 2 * d.p1 * x * y + d.p2 * (r2 + 2 * x * x)
    yd = y * radial + d.p1 * (r2 + 2 * y * y) + 2 * d.p2 * x * y
    return xd, yd


def undistort(
    xd: FloatArray, yd: FloatArray, d: BrownDistortion, iterations: int = 20
) -> tuple[FloatArray, FloatArray]:
    """Invert ``distort`` by Newton's method (converges to 1e-12 well beyond the image corners)."""
    x, y = xd.copy(), yd.copy()
    eps = 1e-7
    for _ in range(iterations):
        fx, fy = distort(x, y, d)
        rx, ry = fx - xd, fy - yd
        if float(np.max(np.abs(rx), initial=0.0)) < 1e-13 and float(np.max(np.abs(ry), initial=0.0)) < 1e-13:
            break
        ax, ay = distort(x + eps, y, d)
        bx, by = distort(x, y + eps, d)
        j11, j21, j12, j22 = (ax - fx) / eps, (ay - fy) / eps, (bx - fx) / eps, (by - fy) / eps
        det = j11 * j22 - j12 * j21
        det = np.where(np.abs(det) < 1e-12, 1e-12, det)
        x = x - (j22 * rx - j12 * ry) / det
        y = y - (j11 * ry - j21 * rx) / det
    return x, y


def parse_dewarp(text: str) -> tuple[float, float, float, float, BrownDistortion]:
    """Split DJI ``DewarpData`` (``date;fx,fy,cx,cy,k1,k2,p1,p2,k3``) into fx, fy, dcx, dcy, distortion.

    Raises:
        GeoreferenceError: not nine numbers after the date.
    """
    body = text.split(";", 1)[-1]
    try:
        values = [float(v) for v in body.replace(" ", "").split(",") if v]
    except ValueError:
        raise GeoreferenceError(f"DewarpData {text!r} is not numeric") from None
    if len(values) != 9:
        raise GeoreferenceError(f"DewarpData {text!r} has {len(values)} values, expected 9")
    fx, fy, dcx, dcy, k1, k2, p1, p2, k3 = values
    return fx, fy, dcx, dcy, BrownDistortion(k1, k2, p1, p2, k3)


def camera_from_info(info: CameraInfo, *, use_distortion: bool = True) -> PinholeCamera:
    """The pinhole model of a capture (see the module docstring for the order of sources).

    Raises:
        GeoreferenceError: no image size, or no usable focal length.
    """
    if not info.width or not info.height:
        raise GeoreferenceError(f"camera {info.make} {info.model}: image size unknown")
    w, h = info.width, info.height
    pitch = info.pixel_pitch_um * 1e-6 if info.pixel_pitch_um else None
    if info.sensor_width_mm and pitch is None:
        pitch = info.sensor_width_mm * 1e-3 / w
    if info.dewarp_data and use_distortion:
        fx, fy, dcx, dcy, dist = parse_dewarp(info.dewarp_data)
        return PinholeCamera(
            w, h, fx, fy, w / 2 + dcx, h / 2 + dcy, None if info.dewarp_flag == 1 else dist, "dewarp", pitch
        )
    if info.calibrated_focal_px:
        f = info.calibrated_focal_px
        cx = info.optical_center_x if info.optical_center_x is not None else w / 2
        cy = info.optical_center_y if info.optical_center_y is not None else h / 2
        return PinholeCamera(w, h, f, f, cx, cy, None, "calibrated", pitch)
    if info.focal_length_mm and info.sensor_width_mm:
        f = info.focal_length_mm * w / info.sensor_width_mm
        return PinholeCamera(w, h, f, f, w / 2, h / 2, None, "focal+sensor", pitch)
    if info.focal_length_35mm:
        f = info.focal_length_35mm * max(w, h) / focal35_divisor(w, h)
        if pitch is None and info.focal_length_mm:
            pitch = info.focal_length_mm * 1e-3 / f
        return PinholeCamera(w, h, f, f, w / 2, h / 2, None, "focal35", pitch)
    raise GeoreferenceError(f"camera {info.make} {info.model}: no focal length (calibrated, mm or 35 mm)")


def focal35_divisor(width: int, height: int) -> float:
    """Sensor width in mm of the 35 mm equivalent: 36 for 3:2 and wider, 34.6 otherwise (Pix4D)."""
    aspect = max(width, height) / min(width, height)
    return 36.0 if ASPECT_3_2 <= aspect < 1.7 else 34.6
