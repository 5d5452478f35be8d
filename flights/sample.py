"""A small, fully synthetic sample flight over Skanderborg with known true poses (no download).

:func:`make_sample_flight` writes into a folder:

- ``DJI_0001.JPG`` … ``DJI_0006.JPG``: 800×600 nadir RGB frames (2×3 grid, yaw 0, 60 m above a
  flat ground at 100 m ellipsoidal height) with EXIF GPS and a DJI-style ``drone-dji`` XMP
  packet (gimbal/flight angles, absolute/relative altitude, RtkFlag 50, calibrated focal length
  and optical centre). The pixels are a rendering of one textured ground (so frames overlap
  consistently) with chessboard targets at the control points.
- ``DJI_0007_R.JPG``: a FLIR-style radiometric R-JPEG (Zenmuse XT2 style) with GPS and pose.
- ``gcp_list.txt`` (ODM format, EPSG:25832) and ``check_points.txt`` (CHK*), whose pixel
  coordinates are the targets projected with the pinhole model (REFERENCE §2.4).
- ``truth.json``: the true poses, intrinsics and control points (:class:`SampleTruth`).

Pixel convention: pixel centres at integer coordinates (OpenCV, and the control-file
convention of :mod:`flights.pixels`); u to the right (east for yaw 0), v down (south).
The local east/north offsets are true (not grid) directions; the
conversion to EPSG:25832 goes through latitude/longitude, so meridian convergence is included.
"""

from __future__ import annotations

import io
import math
import struct
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from pydantic import Field
from pyproj import Transformer

from core.atomic import atomic_write_bytes, atomic_write_text
from core.models import Frozen
from flights.flir_synth import flir_app1_segments
from flights.models import ThermalParameters

CRS = "EPSG:25832"
ORIGIN_E, ORIGIN_N = 557_900.0, 6_212_000.0
GROUND_Z = 100.0
HEIGHT = 60.0
WIDTH, HEIGHT_PX = 800, 600
FOCAL_PX = 700.0
PIXEL_PITCH_MM = 0.008
START = datetime(2025, 6, 12, 10, 0, 0, tzinfo=timezone(timedelta(hours=2)))
#: Synthetic building footprints over the sample's thermal frame (flights/data/README.md).
SAMPLE_FOOTPRINTS = Path(__file__).with_name("data") / "sample_buildings.geojson"
GRID_STEP_E, GRID_STEP_N = 25.0, 20.0
GROUND_CELL = 0.1
GROUND_HALF = 120.0
A_WGS84, F_WGS84 = 6_378_137.0, 1 / 298.257223563
PLANCK = {
    "planck_r1": 21106.77,
    "planck_b": 1501.0,
    "planck_f": 1.0,
    "planck_o": -7340.0,
    "planck_r2": 0.012545258,
}
THERMAL_W, THERMAL_H, THERMAL_FOCAL_MM, THERMAL_PITCH_MM = 320, 256, 13.0, 0.017


class FramePose(Frozen):
    """True pose and intrinsics of one sample frame."""

    image: str
    kind: str = "rgb_frame"
    time_utc: datetime
    lat: float
    lon: float
    east: float
    north: float
    ellipsoidal_height_m: float
    relative_altitude_m: float
    gimbal_yaw: float = 0.0
    gimbal_pitch: float = -90.0
    gimbal_roll: float = 0.0
    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float


class TruthPoint(Frozen):
    """A surveyed target of the sample (EPSG:25832, ellipsoidal height) and where it shows."""

    name: str
    east: float
    north: float
    z: float
    role: str
    pixels: dict[str, tuple[float, float]] = Field(default_factory=dict, description="image -> (u, v)")


class SampleTruth(Frozen):
    """Everything true about the sample flight."""

    crs: str = CRS
    height_reference: str = "ellipsoidal (ETRS89), flat ground"
    ground_z: float = GROUND_Z
    pixel_convention: str = "pixel centres at integer coordinates (OpenCV); u right, v down"
    frames: tuple[FramePose, ...]
    points: tuple[TruthPoint, ...]
    folder: str


def make_sample_flight(folder: Path, *, seed: int = 7, start: datetime = START) -> SampleTruth:
    """Write the sample flight into ``folder`` (created) and return its truth (also ``truth.json``).

    ``start`` is the capture time of the first frame (aware); the frames follow 2 s apart and
    the thermal frame 14 s after the first. Tests keep the fixed default; the demo passes a recent
    heating-season night so that its thermal layer is fresh and its thermography conditions hold.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    to_utm = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    to_geo = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    targets = _targets()
    ground = _ground_texture(rng, targets)
    frames = []
    for i, (de, dn) in enumerate(
        (de, dn) for dn in (0.0, GRID_STEP_N) for de in (-GRID_STEP_E, 0.0, GRID_STEP_E)
    ):
        pose = _pose(
            f"DJI_{i + 1:04d}.JPG", ORIGIN_E + de, ORIGIN_N + dn, start + timedelta(seconds=2 * i), to_geo
        )
        pixels = _render(pose, ground, to_utm)
        atomic_write_bytes(folder / pose.image, _rgb_jpeg(pixels, pose))
        frames.append(pose)
    thermal = _thermal_pose(to_geo, start)
    atomic_write_bytes(folder / thermal.image, _thermal_jpeg(thermal, rng))
    frames.append(thermal)
    points = tuple(
        TruthPoint(
            name=n, east=e, north=nn, z=GROUND_Z, role=r, pixels=_observations(e, nn, frames[:-1], to_geo)
        )
        for n, e, nn, r in targets
    )
    _write_control(folder, points)
    truth = SampleTruth(frames=tuple(frames), points=points, folder=str(folder.resolve()))
    atomic_write_text(folder / "truth.json", truth.model_dump_json(indent=1) + "\n")
    return truth


def _targets() -> list[tuple[str, float, float, str]]:
    """Eight GCPs and eight independent check points (EPSG:25832).

    The GCPs lie near the southern and northern edges so that the two middle frames
    (DJI_0002, DJI_0005) see four each — one more than an affine fit needs, so their fits have
    a leave-one-out figure — and every other frame only two (no GCP fit). The check points
    are spread over the block, six on each middle frame, never fitted: QA measures them on the
    products.
    """
    e, n = ORIGIN_E, ORIGIN_N
    return [
        ("GCP1", e - 30.0, n - 12.0, "gcp"),
        ("GCP2", e + 30.0, n - 12.0, "gcp"),
        ("GCP3", e - 18.0, n - 22.0, "gcp"),
        ("GCP4", e - 30.0, n + 30.0, "gcp"),
        ("GCP5", e + 30.0, n + 30.0, "gcp"),
        ("GCP6", e + 18.0, n - 21.0, "gcp"),
        ("GCP7", e - 16.0, n + 42.0, "gcp"),
        ("GCP8", e + 18.0, n + 41.0, "gcp"),
        ("CHK1", e - 12.0, n + 3.0, "check"),
        ("CHK2", e + 14.0, n + 22.0, "check"),
        ("CHK3", e + 19.0, n - 4.0, "check"),
        ("CHK4", e - 19.0, n + 17.0, "check"),
        ("CHK5", e + 6.0, n - 14.0, "check"),
        ("CHK6", e - 8.0, n + 33.0, "check"),
        ("CHK7", e + 25.0, n + 38.0, "check"),
        ("CHK8", e - 24.0, n - 6.0, "check"),
    ]


def _local_scale(lat: float) -> tuple[float, float]:
    """Metres per radian of latitude (M) and of longitude (N cos lat) on WGS 84."""
    e2 = F_WGS84 * (2 - F_WGS84)
    s = math.sin(math.radians(lat))
    w = math.sqrt(1 - e2 * s * s)
    return A_WGS84 * (1 - e2) / w**3, A_WGS84 / w * math.cos(math.radians(lat))


def _pose(name: str, east: float, north: float, t: datetime, to_geo: Transformer, **kw: float) -> FramePose:
    lon, lat = to_geo.transform(east, north)
    cx, cy = (kw.get("width", WIDTH) - 1) / 2, (kw.get("height", HEIGHT_PX) - 1) / 2
    return FramePose(
        image=name,
        kind=str(kw.get("kind", "rgb_frame")),
        time_utc=t.astimezone(UTC),
        lat=lat,
        lon=lon,
        east=east,
        north=north,
        ellipsoidal_height_m=GROUND_Z + HEIGHT,
        relative_altitude_m=HEIGHT,
        width=int(kw.get("width", WIDTH)),
        height=int(kw.get("height", HEIGHT_PX)),
        fx=kw.get("focal", FOCAL_PX),
        fy=kw.get("focal", FOCAL_PX),
        cx=cx,
        cy=cy,
    )


def _thermal_pose(to_geo: Transformer, start: datetime) -> FramePose:
    focal = THERMAL_FOCAL_MM / THERMAL_PITCH_MM
    t = start + timedelta(seconds=14)
    extra = {"width": THERMAL_W, "height": THERMAL_H, "focal": focal}
    return _pose("DJI_0007_R.JPG", ORIGIN_E, ORIGIN_N + 10.0, t, to_geo, **extra).model_copy(
        update={"kind": "thermal_frame"}
    )


def _ground_texture(rng: np.random.Generator, targets: list[tuple[str, float, float, str]]) -> np.ndarray:
    """An RGB ground image (GROUND_CELL m/px, north up) centred on the origin, with targets."""
    size = int(2 * GROUND_HALF / GROUND_CELL)
    base = np.zeros((size, size, 3), np.float32)
    for scale, weight in ((64, 50.0), (16, 35.0), (4, 35.0), (1, 70.0)):
        small = rng.random((size // scale + 1, size // scale + 1, 3)).astype(np.float32)
        base += weight * cv2.resize(small, (size, size), interpolation=cv2.INTER_LINEAR)
    tint = np.array([0.8, 1.0, 0.6], np.float32)
    image = np.clip(base * tint + 20.0, 0, 255)
    half = int(1.0 / GROUND_CELL)
    for _name, e, n, _role in targets:
        col = int(round((e - (ORIGIN_E - GROUND_HALF)) / GROUND_CELL))
        row = int(round(((ORIGIN_N + GROUND_HALF) - n) / GROUND_CELL))
        image[row - half : row, col - half : col] = 255
        image[row : row + half, col : col + half] = 255
        image[row - half : row, col : col + half] = 0
        image[row : row + half, col - half : col] = 0
    return np.asarray(image, dtype=np.uint8)


def _offsets_to_utm(
    pose: FramePose, d_east: np.ndarray, d_north: np.ndarray, to_utm: Transformer
) -> tuple[np.ndarray, np.ndarray]:
    """True east/north offsets (m) from the camera nadir point to EPSG:25832 coordinates."""
    m_lat, m_lon = _local_scale(pose.lat)
    lat = pose.lat + np.degrees(d_north / m_lat)
    lon = pose.lon + np.degrees(d_east / m_lon)
    return to_utm.transform(lon, lat)


def _render(pose: FramePose, ground: np.ndarray, to_utm: Transformer) -> np.ndarray:
    """Render the nadir view of the ground (pinhole, yaw 0, flat ground HEIGHT below)."""
    u, v = np.meshgrid(np.arange(pose.width, dtype=np.float64), np.arange(pose.height, dtype=np.float64))
    d_east = (u - pose.cx) / pose.fx * HEIGHT
    d_north = -(v - pose.cy) / pose.fy * HEIGHT
    east, north = _offsets_to_utm(pose, d_east, d_north, to_utm)
    map_x = ((np.asarray(east) - (ORIGIN_E - GROUND_HALF)) / GROUND_CELL - 0.5).astype(np.float32)
    map_y = (((ORIGIN_N + GROUND_HALF) - np.asarray(north)) / GROUND_CELL - 0.5).astype(np.float32)
    return cv2.remap(ground, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _observations(
    east: float, north: float, frames: list[FramePose], to_geo: Transformer
) -> dict[str, tuple[float, float]]:
    """Pixel (u, v) of a ground point in every RGB frame that sees it (inverse of ``_render``)."""
    lon, lat = to_geo.transform(east, north)
    seen = {}
    for pose in frames:
        m_lat, m_lon = _local_scale(pose.lat)
        d_north = math.radians(lat - pose.lat) * m_lat
        d_east = math.radians(lon - pose.lon) * m_lon
        u = pose.cx + pose.fx * d_east / HEIGHT
        v = pose.cy - pose.fy * d_north / HEIGHT
        if 5 <= u <= pose.width - 6 and 5 <= v <= pose.height - 6:
            seen[pose.image] = (round(u, 3), round(v, 3))
    return seen


def _write_control(folder: Path, points: tuple[TruthPoint, ...]) -> None:
    for name, role in (("gcp_list.txt", "gcp"), ("check_points.txt", "check")):
        lines = [CRS]
        for p in points:
            if p.role == role:
                for image, (u, v) in p.pixels.items():
                    lines.append(f"{p.east:.3f} {p.north:.3f} {p.z:.3f} {u:.3f} {v:.3f} {image} {p.name}")
        atomic_write_text(folder / name, "\n".join(lines) + "\n")


def _rational(value: float, denominator: int = 10000) -> IFDRational:
    return IFDRational(round(value * denominator), denominator)


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    deg = int(value)
    minutes = int((value - deg) * 60)
    seconds = (value - deg - minutes / 60) * 3600
    return IFDRational(deg, 1), IFDRational(minutes, 1), _rational(seconds, 1_000_000)


def _exif(pose: FramePose, make: str, model: str, focal_mm: float) -> bytes:
    """EXIF with IFD0, Exif IFD and GPS IFD (Pillow's Image.Exif)."""
    local = pose.time_utc.astimezone(START.tzinfo)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132] = make, model, local.strftime("%Y:%m:%d %H:%M:%S")
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = sub[0x9004] = local.strftime("%Y:%m:%d %H:%M:%S")
    sub[0x9011] = sub[0x9010] = "+02:00"
    sub[0x920A] = _rational(focal_mm, 1000)
    sub[0xA405] = round(focal_mm * 43.27 / math.hypot(pose.width * 0.008, pose.height * 0.008))
    sub[0x829A] = IFDRational(1, 1000)
    gps = exif.get_ifd(0x8825)
    gps[0] = b"\x02\x03\x00\x00"
    gps[1], gps[2] = ("N" if pose.lat >= 0 else "S"), _dms(pose.lat)
    gps[3], gps[4] = ("E" if pose.lon >= 0 else "W"), _dms(pose.lon)
    gps[5], gps[6] = b"\x00", _rational(pose.ellipsoidal_height_m, 1000)
    return exif.tobytes()


def _xmp(pose: FramePose, source: str) -> bytes:
    tags = {
        "GpsLatitude": f"{pose.lat:.9f}",
        "GpsLongitude": f"{pose.lon:.9f}",
        "AbsoluteAltitude": f"{pose.ellipsoidal_height_m:+.3f}",
        "RelativeAltitude": f"{pose.relative_altitude_m:+.3f}",
        "GimbalRollDegree": f"{pose.gimbal_roll:+.2f}",
        "GimbalYawDegree": f"{pose.gimbal_yaw:+.2f}",
        "GimbalPitchDegree": f"{pose.gimbal_pitch:+.2f}",
        "FlightRollDegree": "+0.00",
        "FlightYawDegree": f"{pose.gimbal_yaw:+.2f}",
        "FlightPitchDegree": "+0.00",
        "FlightXSpeed": "+0.00",
        "FlightYSpeed": "+0.00",
        "FlightZSpeed": "+0.00",
        "GpsStatus": "RTK",
        "AltitudeType": "RtkAlt",
        "RtkFlag": "50",
        "RtkStdLon": "0.01200",
        "RtkStdLat": "0.01100",
        "RtkStdHgt": "0.02300",
        "CalibratedFocalLength": f"{pose.fx:.3f}",
        "CalibratedOpticalCenterX": f"{pose.cx:.3f}",
        "CalibratedOpticalCenterY": f"{pose.cy:.3f}",
        "DewarpData": f"2025-01-01;{pose.fx:.2f},{pose.fy:.2f},0.00,0.00,0.0,0.0,0.0,0.0,0.0",
        "DewarpFlag": "0",
        "ImageSource": source,
    }
    attrs = "\n   ".join(f'drone-dji:{k}="{v}"' for k, v in tags.items())
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about="DJI Meta Data"\n'
        '   xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/"\n   '
        f'{attrs}/>\n </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end="w"?>'
    )
    return packet.encode("utf-8")


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def _insert_after_exif(jpeg: bytes, segments: list[bytes]) -> bytes:
    """Insert whole segments after SOI and any APP0/APP1 segments Pillow wrote."""
    pos = 2
    while jpeg[pos] == 0xFF and jpeg[pos + 1] in (0xE0, 0xE1):
        pos += 2 + int.from_bytes(jpeg[pos + 2 : pos + 4], "big")
    return jpeg[:pos] + b"".join(segments) + jpeg[pos:]


def _rgb_jpeg(pixels: np.ndarray, pose: FramePose) -> bytes:
    buf = io.BytesIO()
    focal_mm = pose.fx * PIXEL_PITCH_MM
    Image.fromarray(pixels).save(buf, "JPEG", quality=92, exif=_exif(pose, "DJI", "FC-DEMO", focal_mm))
    xmp = _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + _xmp(pose, "WideCamera"))
    return _insert_after_exif(buf.getvalue(), [xmp])


def _thermal_jpeg(pose: FramePose, rng: np.random.Generator) -> bytes:
    """A FLIR-style R-JPEG: 15 °C ground, a 25 °C roof, counts from the Planck law (emissivity 1)."""
    temp = np.full((pose.height, pose.width), 15.0) + rng.normal(0, 0.3, (pose.height, pose.width))
    temp[80:170, 100:230] = 25.0
    kelvin = temp + 273.15
    p = PLANCK
    raw = p["planck_r1"] / (p["planck_r2"] * (np.exp(p["planck_b"] / kelvin) - p["planck_f"])) - p["planck_o"]
    raw16 = np.clip(np.round(raw), 0, 65535).astype(np.uint16)
    params = ThermalParameters(
        **PLANCK,
        emissivity=1.0,
        object_distance_m=1.0,
        raw_width=pose.width,
        raw_height=pose.height,
        format="flir-fff",
    )
    grey = ((temp - temp.min()) / max(float(np.ptp(temp)), 1e-6) * 255).astype(np.uint8)
    buf = io.BytesIO()
    exif = _exif(pose, "DJI", "XT2", THERMAL_FOCAL_MM)
    Image.fromarray(np.dstack([grey] * 3)).save(buf, "JPEG", quality=90, exif=exif)
    flir = [s if s.startswith(b"\xff\xe1") else _segment(0xE1, s) for s in flir_app1_segments(raw16, params)]
    xmp = _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + _xmp(pose, "InfraredCamera"))
    return _insert_after_exif(buf.getvalue(), [xmp, *flir])
