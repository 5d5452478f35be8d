"""Frozen models for what pilots deliver: captures, control points, flights.

These cross every boundary (manifest JSON, the API, later stages), so they are
frozen pydantic models. Optional fields are ``X | None`` because the file did not
carry the value, never as a "not parsed yet" placeholder.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field

from core.errors import FlightFileError
from core.models import Frozen

SCHEMA_VERSION = "1.0"



class FileKind(StrEnum):
    """What a delivered file is."""

    RGB_FRAME = "rgb_frame"
    THERMAL_FRAME = "thermal_frame"
    MULTISPECTRAL_FRAME = "multispectral_frame"
    ORTHOPHOTO = "orthophoto"
    DSM = "dsm"
    DTM = "dtm"
    ODM_OUTPUT = "odm_output"
    CONTROL = "control"
    TELEMETRY = "telemetry"
    OTHER = "other"


class Severity(StrEnum):
    """How bad a problem is: errors make a file unusable, warnings do not."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Purpose(StrEnum):
    """Why the flight was flown; drives QA tolerances and publication rules.

    The Danish names of :data:`PURPOSE_ALIASES` are accepted wherever a purpose is read
    (``Purpose("naturovervågning") is Purpose.NATURE_MONITORING``); the identifier is stored.
    """

    BUILDING_INSPECTION = "building-inspection"
    NATURE_MONITORING = "nature-monitoring"
    SURVEY = "survey"
    OTHER = "other"

    @classmethod
    def _missing_(cls, value: object) -> Purpose | None:
        """A purpose by its Danish name or a spelling variant (case, ``_``/space for ``-``)."""
        if not isinstance(value, str):
            return None
        key = " ".join(value.strip().lower().split())
        name = PURPOSE_ALIASES.get(key) or key.replace("_", "-").replace(" ", "-")
        return cls.__members__.get(name.replace("-", "_").upper())


PURPOSE_ALIASES: dict[str, str] = {
    "bygningsinspektion": "building-inspection",
    "bygningsinspektioner": "building-inspection",
    "termografi": "building-inspection",
    "naturovervågning": "nature-monitoring",
    "naturovervaagning": "nature-monitoring",
    "natur": "nature-monitoring",
    "opmåling": "survey",
    "opmaaling": "survey",
    "kortlægning": "survey",
    "andet": "other",
}
"""Danish names of the purposes (the one alias table), lower case."""


class Problem(Frozen):
    """One thing wrong with one file, with a stable code (e.g. ``no_gps``)."""

    code: str
    severity: Severity
    file: str = Field(description="path relative to the flight folder")
    message: str


AltitudeRef = Literal["above_sea_level", "below_sea_level", "ellipsoidal", "unknown"]
"""What ``Position.altitude_m`` is measured from."""


class Position(Frozen):
    """Where the camera was (WGS 84 degrees)."""

    lat: float
    lon: float
    altitude_m: float | None = Field(None, description="EXIF GPSAltitude, sign applied")
    altitude_ref: AltitudeRef = "unknown"
    absolute_altitude_m: float | None = Field(None, description="drone-dji:AbsoluteAltitude")
    relative_altitude_m: float | None = Field(None, description="drone-dji:RelativeAltitude (above take-off)")
    source: str = Field("exif", description="where lat/lon came from: exif, xmp, mrk, geo.txt")


class Attitude(Frozen):
    """Gimbal and aircraft attitude in degrees (NED, yaw clockwise from north)."""

    gimbal_yaw: float | None = None
    gimbal_pitch: float | None = Field(None, description="-90 = nadir, 0 = horizon")
    gimbal_roll: float | None = None
    flight_yaw: float | None = None
    flight_pitch: float | None = None
    flight_roll: float | None = None
    source: str = Field("none", description="drone-dji, camera (senseFly), maker note, none")

    @property
    def camera_yaw(self) -> float | None:
        """Heading of the camera: gimbal yaw, falling back to flight yaw."""
        return self.gimbal_yaw if self.gimbal_yaw is not None else self.flight_yaw


class Rtk(Frozen):
    """RTK status as the drone reports it (DJI ``RtkFlag`` 50 = fixed)."""

    flag: int | None = None
    std_lat_m: float | None = None
    std_lon_m: float | None = None
    std_hgt_m: float | None = None
    gps_status: str | None = None
    altitude_type: str | None = None

    @property
    def fixed(self) -> bool:
        """True when the position is an RTK fixed solution."""
        return self.flag == 50


class Velocity(Frozen):
    """Aircraft speed in m/s (DJI FlightX/Y/ZSpeed)."""

    x: float | None = None
    y: float | None = None
    z: float | None = None


class CameraInfo(Frozen):
    """Camera and lens as recorded in the file, plus the sensor profile found for it."""

    make: str | None = None
    model: str | None = None
    width: int | None = None
    height: int | None = None
    focal_length_mm: float | None = None
    focal_length_35mm: float | None = None
    calibrated_focal_px: float | None = Field(None, description="drone-dji:CalibratedFocalLength (pixels)")
    optical_center_x: float | None = None
    optical_center_y: float | None = None
    dewarp_data: str | None = None
    dewarp_flag: int | None = None
    sensor_width_mm: float | None = Field(None, description="from the sensor registry")
    pixel_pitch_um: float | None = Field(None, description="from the sensor registry")
    exposure_time_s: float | None = None
    image_source: str | None = Field(None, description="drone-dji:ImageSource")


class ThermalParameters(Frozen):
    """FLIR radiometric constants and measurement parameters (temperatures in °C)."""

    planck_r1: float | None = None
    planck_r2: float | None = None
    planck_b: float | None = None
    planck_f: float | None = None
    planck_o: float | None = None
    emissivity: float | None = None
    object_distance_m: float | None = None
    reflected_temp_c: float | None = None
    atmospheric_temp_c: float | None = None
    ir_window_temp_c: float | None = None
    ir_window_transmission: float | None = None
    relative_humidity_pct: float | None = None
    ata1: float | None = None
    ata2: float | None = None
    atb1: float | None = None
    atb2: float | None = None
    atx: float | None = None
    raw_width: int | None = None
    raw_height: int | None = None
    format: str | None = Field(None, description="flir-fff, dji-rjpeg, radiometric-tiff")


class ImageQuality(Frozen):
    """Cheap image-quality figures from a reduced decode."""

    blur_score: float = Field(description="variance of the Laplacian on a reduced grey image")
    mean_brightness: float = Field(description="0..255")
    dark_fraction: float = Field(description="share of pixels below 10")
    saturated_fraction: float = Field(description="share of pixels above 250")
    decoded_width: int
    decoded_height: int


class Capture(Frozen):
    """One image of a flight: file, checksum, time, position, attitude, camera, problems."""

    path: str = Field(description="path relative to the flight folder, POSIX separators")
    sha256: str
    size: int
    kind: FileKind
    time_utc: datetime | None = None
    time_source: str = Field("none", description="how the UTC time was found, e.g. exif+offset")
    position: Position | None = None
    attitude: Attitude = Attitude()
    rtk: Rtk = Rtk()
    velocity: Velocity = Velocity()
    camera: CameraInfo = CameraInfo()
    thermal: ThermalParameters | None = None
    quality: ImageQuality | None = None
    problems: tuple[Problem, ...] = ()

    @property
    def usable(self) -> bool:
        """True when no problem of severity error was found."""
        return not any(p.severity == Severity.ERROR for p in self.problems)


class PixelObservation(Frozen):
    """Where a control point appears in one image or product (pixel column/row).

    ``col``/``row`` name pixel centres: (0, 0) is the centre of the first pixel (OpenSfM/ODM,
    :mod:`flights.pixels`). ``line`` is the line of the control file it was read from.
    """

    image: str
    col: float
    row: float
    line: int | None = None


class ControlPoint(Frozen):
    """A surveyed point: GCP (used in fits) or check point (never used in fits)."""

    name: str
    x: float
    y: float
    z: float | None = None
    crs: str = Field(description="CRS of x/y/z as an authority string or PROJ string")
    role: Literal["gcp", "check"] = "gcp"
    observations: tuple[PixelObservation, ...] = ()
    survey_std_h_m: float | None = None
    survey_std_v_m: float | None = None


class ControlFile(Frozen):
    """A parsed control file (gcp_list.txt, check points, geo.txt, MRK)."""

    path: str
    format: str
    crs: str | None = None
    points: tuple[ControlPoint, ...] = ()


class DeliveredFile(Frozen):
    """Any file of the flight folder that is not a frame: rasters, telemetry, other."""

    path: str
    sha256: str
    size: int
    kind: FileKind
    crs: str | None = None
    time_utc: datetime | None = Field(None, description="capture time the raster's own metadata gives (UTC)")
    time_source: str = Field("none", description="where time_utc came from (flights.raster_time)")
    bounds_wgs84: tuple[float, float, float, float] | None = Field(
        None, description="raster footprint: west, south, east, north in degrees (None: CRS unknown)"
    )
    problems: tuple[Problem, ...] = ()


HeightDeclaration = Literal["dvr90", "ellipsoidal", "unknown"]
"""A pilot's declaration of the vertical datum of delivered heights (``--height-datum``)."""


class HeightDatums(Frozen):
    """Declared vertical datum of delivered DSMs/DTMs: dvr90, ellipsoidal or unknown, for both or per kind.

    ``unknown`` declares that the pilot does not know: the pipeline's geoid test may still
    decide. The file's own vertical CRS wins over a declaration. None: not declared.
    """

    dsm: HeightDeclaration | None = None
    dtm: HeightDeclaration | None = None

    @classmethod
    def of(cls, declared: HeightDeclaration | HeightDatums) -> HeightDatums:
        """``declared`` for both kinds when it is one datum, else as it is."""
        return cls(dsm=declared, dtm=declared) if isinstance(declared, str) else declared

    def for_kind(self, kind: FileKind) -> HeightDeclaration | None:
        """The declaration for a delivered file of ``kind`` (None for other kinds)."""
        return self.dsm if kind == FileKind.DSM else self.dtm if kind == FileKind.DTM else None


class DeclaredCapture(Frozen):
    """When a delivery was flown, as a person declared it (``dronegis ingest --captured``).

    A date declares the whole day in Europe/Copenhagen (``start`` 00:00, ``end`` 23:59:59 local);
    a date and time declares that instant (``start == end``). Stored in UTC.
    """

    text: str = Field(description="the declaration as given, e.g. 2025-06-12 or 2025-06-12T10:30")
    start: datetime
    end: datetime


class ArchiveEntry(Frozen):
    """Where one delivered file ended: archive (byte copy) or quarantine (with reason)."""

    path: str
    sha256: str
    size: int
    status: Literal["archived", "quarantined"]
    reason: str | None = None


class Flight(Frozen):
    """A flight folder after ingest: the manifest later stages read."""

    schema_version: str = SCHEMA_VERSION
    id: str
    source: str = Field(description="absolute path of the delivered folder")
    purpose: Purpose = Purpose.OTHER
    ingested_at: datetime
    captures: tuple[Capture, ...] = ()
    files: tuple[DeliveredFile, ...] = ()
    control: tuple[ControlFile, ...] = ()
    aoi: dict[str, object] | None = Field(None, description="AOI as GeoJSON geometry in EPSG:4326")
    problems: tuple[Problem, ...] = ()
    entries: tuple[ArchiveEntry, ...] = ()
    captured: DeclaredCapture | None = Field(
        None, description="capture date declared for the delivery (--captured); dates undated rasters"
    )
    height_datum: HeightDatums = Field(HeightDatums(), description="declared datum of delivered DSMs/DTMs")
    site: str | None = Field(
        None, max_length=120, description="site name a person gave (Skanderborg Rådhus): the layers' place"
    )

    def frames(self, kind: FileKind | None = None) -> tuple[Capture, ...]:
        """Captures, optionally of one kind."""
        return tuple(c for c in self.captures if kind is None or c.kind == kind)

    @property
    def time_span(self) -> tuple[datetime, datetime] | None:
        """First and last capture time (UTC), if any capture has one."""
        times = sorted(c.time_utc for c in self.captures if c.time_utc is not None)
        return (times[0], times[-1]) if times else None


def load_flight(path: Path) -> Flight:
    """Read a Flight JSON written by :func:`flights.ingest.ingest_folder` (the one reader of it).

    Here rather than in :mod:`flights.ingest`, so that a reader of flights (``dronegis thermal
    --flight``) does not import ingest with its rasters, control files and checks.

    Raises:
        FlightFileError: the file does not exist (the flight was not ingested) or is malformed.
    """
    try:
        return Flight.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FlightFileError(f"flight file {path} not found (run dronegis ingest)") from None
    except ValueError as exc:
        raise FlightFileError(f"flight file {path} is malformed: {exc}") from exc
