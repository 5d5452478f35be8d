"""Classify a delivered file by its name, its folder and a sniff of its header.

``classify(path)`` never raises: a file it cannot read or sniff gets the kind its
extension promises (``.jpg``/``.dng`` -> RGB_FRAME, ``.tif``/``.png`` -> ORTHOPHOTO,
``.fff`` -> THERMAL_FRAME, else OTHER), so that ingest reads it for real, gets the
error and quarantines it with a reason. It reads at most the JPEG header segments or
the first TIFF directory — no pixels. The file is opened once for both: the sniff and
the JPEG header walk are shared with :func:`flights.exif.read_capture` (see
:func:`flights.jpeg.read_start`).

Rules, first match wins:

- ``.srt`` -> TELEMETRY; ``.mrk``, ``gcp_list*.txt``, ``*gcp*.txt``, ``geo.txt``,
  check-point lists (``*check*``/``*chk*`` ``.txt``/``.csv``) and text whose first
  line is a CRS followed by GCP rows -> CONTROL.
- ODM outputs: ``odm_report/stats.json``, ``shots.geojson``, OpenSfM
  ``reconstruction*.json``, and anything below an ODM folder (``odm_orthophoto``,
  ``odm_dem``, ``odm_report``, ``odm_texturing``, ... ``opensfm``; see ``ODM_FOLDERS``)
  that is not a raster product or a frame -> ODM_OUTPUT. The rasters there are
  sniffed like any other (``odm_dem/dsm.tif`` -> DSM).
- FLIR ``.fff`` -> THERMAL_FRAME.
- JPEG: FLIR APP1 segments, a DJI thermal block (>= 32 kB of APP3 ``ThermalData`` or
  an APP4 DIRP block), or XMP ``ImageSource=InfraredCamera`` -> THERMAL_FRAME; a world
  file beside it -> ORTHOPHOTO; EXIF make/model or a GPS directory, EXIF plus a camera
  file name (``DJI_``, ``IMG_``, ``DSC``...), or DJI/senseFly/Pix4D XMP -> RGB_FRAME;
  else OTHER (previews, screenshots, mosaics without world file).
- PNG with a world file -> ORTHOPHOTO, else OTHER.
- TIFF: GeoTIFF tags or a world file -> DSM/DTM (single band, float or a dsm/dtm/dem
  name) or ORTHOPHOTO; PROJ/GDAL offset grids -> OTHER; a single-band 16-bit or float
  TIFF from a thermal camera (or without make at a thermal size) -> THERMAL_FRAME; a
  single-band TIFF of a multispectral camera (registry kind ``multispectral`` or XMP
  ``Camera:BandName``, e.g. MicaSense RedEdge) -> MULTISPECTRAL_FRAME (not an RGB frame:
  no mixed-cameras warning against the RGB camera, no 8-bit quality pass); a
  TIFF/DNG with camera make -> RGB_FRAME; zero or absurd dimensions -> RGB_FRAME (so
  read_capture rejects it); a tiled or ortho/DSM-named TIFF without georeference ->
  ORTHOPHOTO/DSM/DTM (ingest reports the missing CRS); else OTHER.
"""

from __future__ import annotations

import logging
import mmap
import os
import re
from functools import lru_cache
from pathlib import Path

from core.errors import MetadataError
from flights.exif import FFF_MAGIC, HEIGHT, MAKE, MAX_FRAME_SIDE, MODEL, TIFF_MAGICS, WIDTH, jpeg_tags
from flights.jpeg import FileStart, JpegHeader, read_start
from flights.models import FileKind
from flights.sensors import SENSORS
from flights.tiff import EXIF_IFD, GPS_IFD, TiffTags, read_tiff_tags

log = logging.getLogger(__name__)

IMAGE_EXTS = frozenset({".jpg", ".jpeg"})
TIFF_EXTS = frozenset({".tif", ".tiff", ".dng"})
RASTER_EXTS = IMAGE_EXTS | TIFF_EXTS | {".png"}
#: Sidecars of a raster (overviews, masks, world files): archived as OTHER.
SIDECAR_EXTS = frozenset(
    {".ovr", ".msk", ".jgw", ".jpgw", ".pgw", ".pngw", ".tfw", ".tifw", ".wld", ".prj", ".aux"}
)
WORLD_SUFFIXES: dict[str, tuple[str, ...]] = {
    ".jpg": (".jgw", ".jpgw", ".wld"),
    ".jpeg": (".jgw", ".jpegw", ".wld"),
    ".png": (".pgw", ".pngw", ".wld"),
    ".tif": (".tfw", ".tifw", ".wld"),
    ".tiff": (".tfw", ".tiffw", ".wld"),
}
_WORLD_NAMES = frozenset(s for ends in WORLD_SUFFIXES.values() for e in ends for s in (e, e.upper()))
THERMAL_SIZES = frozenset({(640, 512), (336, 256), (320, 256), (160, 120), (640, 480), (1280, 1024)})
ODM_NAMES = frozenset({"stats.json", "shots.geojson", "cameras.json", "reconstruction.json", "report.pdf"})
#: Folders ODM/WebODM write (``odm_*``) and OpenSfM's working folder.
ODM_FOLDERS = frozenset(
    {
        "odm_orthophoto",
        "odm_dem",
        "odm_report",
        "odm_georeferencing",
        "odm_meshing",
        "odm_texturing",
        "odm_filterpoints",
        "odm_25dgeoreferencing",
        "odm_25dmeshing",
        "odm_25dtexturing",
        "odm_tiles",
        "entwine_pointcloud",
        "opensfm",
    }
)
CAMERA_NAME = re.compile(r"^(DJI_|IMG_|DSC|DSCF|P\d{7}|MAX_|R\d{7}|GOPR|G\d{7})", re.IGNORECASE)

# TIFF tags used by the sniff (Make, Model, ImageWidth/Length: flights.exif).
_SAMPLES, _BITS, _FORMAT = 0x0115, 0x0102, 0x0153
_GEO = frozenset({0x830E, 0x8482, 0x85D8, 0x87AF})  # ModelPixelScale, Tiepoint, Transformation, GeoKeys
_GDAL_METADATA = 0xA480
_TILE_WIDTH = 0x0142
_XMP_TAG = 700
_TIFF_TAGS = frozenset(
    {_SAMPLES, _BITS, _FORMAT, MAKE, MODEL, WIDTH, HEIGHT, _GDAL_METADATA, _TILE_WIDTH, _XMP_TAG} | _GEO
)
#: XMP of one band of a multispectral rig (MicaSense, Parrot Sequoia, DJI P4 Multispectral).
_BAND_XMP = re.compile(rb"BandName(?:=[\"']|>)")
_CAMERA_TAGS = frozenset({MAKE, MODEL})
_INFRARED = re.compile(rb"ImageSource(?:=[\"']|>)\s*Infrared")
_POSE_XMP = (b"drone-dji", b"ns.sensefly.com", b"pix4d.com/camera")

_GCP_NAME = re.compile(r"(gcp|ground[_ -]?control)", re.IGNORECASE)
_CHECK_NAME = re.compile(r"(check[_ -]?points?|checkpoints?|(^|[_\-. ])chk([_\-. ]|$)|ckeck)", re.IGNORECASE)
_CRS_LINE = re.compile(r"^\s*(EPSG:\d+|WGS84|WGS 84|\+proj=|UTM\b)", re.IGNORECASE)
_DSM_NAME = re.compile(r"(^|[^a-z])(dsm|surface)([^a-z]|$)", re.IGNORECASE)
_NOT_HEIGHT_NAME = re.compile(r"amplitude|intensity|class|ndvi|index|temperature|thermal", re.IGNORECASE)
_RASTER_NAME = re.compile(r"ortho|mosaic|dsm|dtm|dem", re.IGNORECASE)
_DTM_NAME = re.compile(r"(^|[^a-z])(dtm|dem|terrain)([^a-z]|$)", re.IGNORECASE)


def classify(path: Path) -> FileKind:
    """The kind of one delivered file (never raises).

    Args:
        path: The file (its parent folders are part of the evidence: ``odm_*``).

    Returns:
        The kind; OTHER when nothing matches.
    """
    try:
        return _classify(path)
    except (OSError, MetadataError) as exc:
        log.debug("%s: sniff failed (%s); classified by name", path, exc)
    except Exception:  # the contract is "never raises": a sniffer bug must not stop a delivery
        log.warning("%s: unexpected error while sniffing; classified by name", path, exc_info=True)
    return _by_extension(path)


def _by_extension(path: Path) -> FileKind:
    """The kind a name promises; used when the content cannot be sniffed.

    A broken ``.jpg`` stays a frame and a broken ``.tif``/``.png`` a raster, so that
    ingest reads it, gets the error and quarantines the file with a reason.
    """
    ext = path.suffix.lower()
    if ext in IMAGE_EXTS or ext == ".dng":
        return FileKind.RGB_FRAME
    if ext in (".tif", ".tiff", ".png"):
        return FileKind.ORTHOPHOTO
    if ext == ".fff":
        return FileKind.THERMAL_FRAME
    if ext == ".srt":
        return FileKind.TELEMETRY
    if ext == ".mrk":
        return FileKind.CONTROL
    return FileKind.OTHER


def _classify(path: Path) -> FileKind:
    name = path.name.lower()
    ext = path.suffix.lower()
    if ext == ".srt":
        return FileKind.TELEMETRY
    if _is_control(path, name, ext):
        return FileKind.CONTROL
    if ext in SIDECAR_EXTS:
        return FileKind.OTHER
    if ext not in RASTER_EXTS and _is_odm_output(path, name):
        return FileKind.ODM_OUTPUT
    kind = _sniff(path, name, ext)
    if kind == FileKind.OTHER and _is_odm_output(path, name):
        return FileKind.ODM_OUTPUT  # textures, report images, previews inside an ODM project
    return kind


def _sniff(path: Path, name: str, ext: str) -> FileKind:
    start = read_start(path)  # a corrupt JPEG raises: classified by its extension
    head = start.head
    if head[:4] == FFF_MAGIC or ext == ".fff":
        return FileKind.THERMAL_FRAME  # a broken .fff too: ingest reads it and reports why
    if start.jpeg is not None:
        return _classify_jpeg(path, start, start.jpeg)
    if head[:4] in TIFF_MAGICS:
        return _classify_tiff(path, name)
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return FileKind.ORTHOPHOTO if world_file_for(path) else FileKind.OTHER
    return _by_extension(path) if ext in RASTER_EXTS else FileKind.OTHER


def world_file_for(path: Path) -> Path | None:
    """The world file beside an image (``x.jgw``, ``x.jpgw``, ``x.wld``; any case), if any."""
    ext = path.suffix
    suffixes = WORLD_SUFFIXES.get(ext.lower(), ())
    if not suffixes:
        return None
    names, stems = _siblings(os.path.dirname(path) or ".")  # a string: no parent Path made per frame
    stem = path.name[: -len(ext)]
    if stem not in stems:  # no world file of any image is named so (the usual answer: one lookup)
        return None
    for suffix in suffixes:
        for candidate in (stem + suffix, stem + suffix.upper()):
            if candidate in names and (path.parent / candidate).is_file():
                return path.parent / candidate
    return None


def _siblings(folder: str) -> tuple[frozenset[str], frozenset[str]]:
    """Names in ``folder`` and the stems of its world files, listed once per folder version
    (one stat per call, not six)."""
    try:
        st = os.stat(folder)
    except OSError:
        return frozenset(), frozenset()
    return _listing(folder, st.st_mtime_ns, st.st_ino)


@lru_cache(maxsize=64)
def _listing(folder: str, _mtime_ns: int, _inode: int) -> tuple[frozenset[str], frozenset[str]]:
    try:
        names = frozenset(os.listdir(folder))
    except OSError:
        return frozenset(), frozenset()
    # "x.jgw" -> "x": every name world_file_for may look for is a stem and one of these suffixes
    split = (name.rpartition(".") for name in names)
    return names, frozenset(stem for stem, dot, tail in split if dot and dot + tail in _WORLD_NAMES)


def _is_control(path: Path, name: str, ext: str) -> bool:
    if ext == ".mrk" or name == "geo.txt":
        return True
    if ext not in (".txt", ".csv"):
        return False
    if "readme" in name:
        return False
    if _GCP_NAME.search(name) or _CHECK_NAME.search(path.stem):
        return True
    return ext == ".txt" and _looks_like_gcp_list(path)


def _looks_like_gcp_list(path: Path) -> bool:
    """First line a CRS, next data line: 5+ fields, 3+ numbers and an image name."""
    with open(path, "rb") as fh:
        text = fh.read(4096).decode("utf-8", "replace")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if len(lines) < 2 or not _CRS_LINE.match(lines[0]):
        return False
    fields = lines[1].split()
    numbers = sum(1 for f in fields if re.fullmatch(r"[+\-]?\d+(\.\d*)?([eE][+\-]?\d+)?", f))
    return len(fields) >= 5 and numbers >= 3


def _is_odm_output(path: Path, name: str) -> bool:
    if name in ODM_NAMES or name.startswith("reconstruction") and name.endswith(".json"):
        return True
    return any(p.lower() in ODM_FOLDERS for p in path.parent.parts[-4:])


def _classify_jpeg(path: Path, start: FileStart, hdr: JpegHeader) -> FileKind:
    if hdr.flir_segments:
        return FileKind.THERMAL_FRAME
    xmp = hdr.xmp or b""
    # a byte search, not an XML parse: the sniff must be cheap and never trip on bad XMP
    if _infrared(xmp) or hdr.dji_thermal:
        return FileKind.THERMAL_FRAME
    tags = _camera_tags(path, start, hdr.exif) if hdr.exif is not None else None
    if world_file_for(path):
        return FileKind.ORTHOPHOTO
    if tags and (MAKE in tags.ifd0 or MODEL in tags.ifd0 or GPS_IFD in tags.pointers):
        return FileKind.RGB_FRAME  # camera make/model or GPS
    if tags and EXIF_IFD in tags.pointers and CAMERA_NAME.match(path.name):
        return FileKind.RGB_FRAME  # EXIF and a camera's file name
    if any(marker in xmp for marker in _POSE_XMP):
        return FileKind.RGB_FRAME
    return FileKind.OTHER


def _camera_tags(path: Path, start: FileStart, exif: bytes) -> TiffTags:
    """IFD0 and its sub-directory pointers: from the decode ``read_capture`` uses next (cached),
    or from IFD0's make and model alone when another tag is broken (``read_capture`` reports it)."""
    try:
        return jpeg_tags(start)
    except MetadataError:
        return read_tiff_tags(exif, path, ifd0_tags=_CAMERA_TAGS)


def _infrared(xmp: bytes) -> bool:
    """XMP ``drone-dji:ImageSource=InfraredCamera`` (a cheap test first, the exact one second)."""
    return b"Infrared" in xmp and _INFRARED.search(xmp) is not None


def _classify_tiff(path: Path, name: str) -> FileKind:
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        tags = read_tiff_tags(mm, path, ifd0_tags=_TIFF_TAGS, what="TIFF")
    ifd0 = tags.ifd0
    samples = int(_first(ifd0.get(_SAMPLES), 1))
    bits = int(_first(ifd0.get(_BITS), 8))
    fmt = int(_first(ifd0.get(_FORMAT), 1))
    make, model = ifd0.get(MAKE), ifd0.get(MODEL)
    width, height = int(_first(ifd0.get(WIDTH), 0)), int(_first(ifd0.get(HEIGHT), 0))
    georef = any(t in ifd0 for t in _GEO) or world_file_for(path) is not None
    if georef:
        gdal_md = ifd0.get(_GDAL_METADATA)
        if isinstance(gdal_md, str) and re.search(r"TYPE[^<]*OFFSET|GEOID|HGRID|VGRID", gdal_md, re.I):
            return FileKind.OTHER  # a PROJ/GDAL transformation grid, not a product
        return _elevation_or_ortho(name, samples, fmt)
    if samples == 1 and _multispectral(make, model, ifd0.get(_XMP_TAG)):
        return FileKind.MULTISPECTRAL_FRAME
    if samples == 1 and (bits >= 16 or fmt == 3):
        profile = SENSORS.get(
            make if isinstance(make, str) else None, model if isinstance(model, str) else None, width=width
        )
        if (profile and profile.kind == "thermal") or (not make and (width, height) in THERMAL_SIZES):
            return FileKind.THERMAL_FRAME
    if isinstance(make, str) and make or path.suffix.lower() == ".dng":
        return FileKind.RGB_FRAME
    if not (0 < width <= MAX_FRAME_SIDE and 0 < height <= MAX_FRAME_SIDE):
        return FileKind.RGB_FRAME  # read_capture reports the absurd size; never silently "other"
    if _TILE_WIDTH in ifd0 or _RASTER_NAME.search(name):
        # a tiled or ortho/DSM-named raster without georeference: a product that lost
        # its CRS (ingest reports it), never a camera frame
        return _elevation_or_ortho(name, samples, fmt)
    return FileKind.OTHER


def _multispectral(make: object, model: object, xmp: object) -> bool:
    """One band of a multispectral camera: its registry profile says so, or its XMP names the band."""
    if isinstance(make, str) and isinstance(model, str):
        profile = SENSORS.get(make, model)
        if profile is not None and profile.kind == "multispectral":
            return True
    return isinstance(xmp, bytes) and _BAND_XMP.search(xmp) is not None


def _elevation_or_ortho(name: str, samples: int, fmt: int) -> FileKind:
    if _DTM_NAME.search(name):
        return FileKind.DTM
    if _DSM_NAME.search(name):
        return FileKind.DSM
    if samples == 1 and fmt == 3 and not _NOT_HEIGHT_NAME.search(name):
        return FileKind.DSM
    return FileKind.ORTHOPHOTO


def _first(value: object, default: float) -> float:
    if isinstance(value, tuple) and value:
        return float(value[0])
    return default
