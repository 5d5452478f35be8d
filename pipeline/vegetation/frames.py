"""One band frame of a multispectral camera: which band it is and how to calibrate it.

Read from the frame's TIFF/EXIF tags and its XMP through the metadata readers of
:mod:`flights` (``flights.tiff``, ``flights.jpeg``, ``flights.xmp``):

- **MicaSense** (RedEdge, Altum; XMP ``Camera:*``, ``MicaSense:*``, ``DLS:*``): band name and
  central wavelength, radiometric calibration a1..a3, vignetting centre and polynomial,
  black level (EXIF BlackLevel, else the mean of ``MicaSense:DarkRowValue`` — written when
  an editor dropped the EXIF tag, as in WebODM's test fixture), exposure, gain (ISO/100) and
  the downwelling light sensor's irradiance (``Camera:HorizontalIrradiance``, else the
  spectral irradiance the DLS measured, uncorrected for its tilt).
- **DJI P4 Multispectral / Mavic 3M** (XMP ``drone-dji:*`` and ``Camera:*``): band, black
  level, sensor gain, exposure in µs, ``SensorGainAdjustment``, vignetting centre
  (``CalibratedOpticalCenterX/Y`` or ``VignettingCenter``) and ``VignettingData``, and the
  sunlight sensor's compensated ``Irradiance``.
- **Parrot Sequoia** (XMP ``Camera:*``): band, ``Camera:SensorModel`` (A, B, C), f-number,
  exposure, ISO, and an irradiance when the firmware wrote one as a number.

Frames resized after capture keep the vignetting centre of the full sensor; the centre is
applied in native pixel coordinates, from the frame's width over the sensor's native width
(:data:`flights.sensors.SENSORS`).
"""

from __future__ import annotations

import mmap
from pathlib import Path
from typing import Literal

from pydantic import Field

from core.errors import MetadataError, RasterInputError
from core.models import Frozen
from flights.jpeg import is_jpeg, read_jpeg_header
from flights.sensors import SENSORS
from flights.tiff import TiffTags, read_tiff_tags
from flights.xmp import XmpValues, first_float, parse_xmp, xmp_float
from pipeline.vegetation.bands import BandMap, band_from_name, band_from_wavelength
from pipeline.vegetation.indices import Band

Vendor = Literal["micasense", "dji", "sequoia", "generic"]
VignettingModel = Literal["divide", "multiply"]

# TIFF / EXIF tag ids
MAKE, MODEL, WIDTH, BITS, XMP_TAG, BLACK_LEVEL = 0x010F, 0x0110, 0x0100, 0x0102, 0x02BC, 0xC61A
EXPOSURE, F_NUMBER, ISO, ISO_SPEED = 0x829A, 0x829D, 0x8827, 0x8833
_IFD0 = frozenset({MAKE, MODEL, WIDTH, BITS, XMP_TAG, BLACK_LEVEL})
_EXIF = frozenset({EXPOSURE, F_NUMBER, ISO, ISO_SPEED})


class Vignetting(Frozen):
    """Radial vignetting: r is the distance from ``center``, both in the sensor's native pixels.

    ``divide`` (MicaSense): corrected = raw / (1 + Σ kᵢ rⁱ⁺¹);
    ``multiply`` (DJI): corrected = raw × (1 + Σ kᵢ rⁱ⁺¹).
    """

    center: tuple[float, float]
    coefficients: tuple[float, ...] = Field(description="k0.. for r¹, r², …")
    model: VignettingModel


class BandFrame(Frozen):
    """What a multispectral band frame says about its band and its calibration."""

    path: str
    vendor: Vendor
    make: str | None
    model: str | None
    band: Band | None = Field(description="canonical band; None for bands no index uses (e.g. LWIR, panchro)")
    band_name: str = Field(description="the band name as written in the file")
    central_wavelength_nm: float | None = None
    fwhm_nm: float | None = None
    width: int
    native_scale: float = Field(
        1.0, description="sensor pixels per frame pixel (> 1 when the frame was resized after capture)"
    )
    bits_per_sample: int
    black_level: float | None = None
    black_level_source: str | None = None
    exposure_s: float | None = None
    gain: float | None = None
    f_number: float | None = None
    radiometric_calibration: tuple[float, float, float] | None = Field(
        None, description="MicaSense a1, a2, a3"
    )
    sensor_gain_adjustment: float | None = Field(None, description="DJI SensorGainAdjustment")
    sensor_model: tuple[float, float, float] | None = Field(None, description="Sequoia A, B, C")
    vignetting: Vignetting | None = None
    irradiance: float | None = None
    irradiance_source: str | None = None


def read_band_frame(path: Path) -> BandFrame:
    """The band and calibration metadata of one multispectral frame (TIFF or JPEG).

    Raises:
        RasterInputError: the file names no band (not a multispectral band frame).
        MetadataError: the metadata is malformed (names the file and value).
    """
    tags, xmp = _read_tags(path)
    name = xmp.get("Camera:BandName") or xmp.get("drone-dji:BandName")
    if not name:
        raise RasterInputError(f"{path}: no XMP Camera:BandName; not a band of a multispectral camera")
    if "," in name:
        raise RasterInputError(
            f"{path}: XMP Camera:BandName {name!r} names several channels: a colour frame, not one band "
            "of a multispectral camera (see frame_channel_bands)"
        )
    make, model = _text(tags.ifd0.get(MAKE)) or xmp.get("tiff:Make"), _text(tags.ifd0.get(MODEL))
    vendor = _vendor(make, xmp)
    wavelength = first_float(xmp, ("Camera:CentralWavelength", "DLS:CenterWavelength"), path)
    band = band_from_name(name) or (band_from_wavelength(wavelength) if wavelength else None)
    width = int(_num(tags.ifd0.get(WIDTH)) or 0)
    black, black_source = _black_level(tags, xmp, path)
    exposure = _num(tags.exif.get(EXPOSURE))
    if vendor == "dji":
        exposure_us = xmp_float(xmp, "drone-dji:ExposureTime", path)
        exposure = exposure_us * 1e-6 if exposure_us is not None else exposure
    irradiance, irr_source = _irradiance(vendor, xmp, path)
    return BandFrame(
        path=str(path), vendor=vendor, make=make, model=model or xmp.get("tiff:Model"),
        band=band, band_name=name, central_wavelength_nm=wavelength,
        fwhm_nm=first_float(xmp, ("Camera:WavelengthFWHM", "DLS:Bandwidth"), path),
        width=width, native_scale=_native_scale(make, model, width),
        bits_per_sample=int(_num(tags.ifd0.get(BITS)) or 16),
        black_level=black, black_level_source=black_source, exposure_s=exposure,
        gain=_gain(vendor, tags, xmp, path), f_number=_num(tags.exif.get(F_NUMBER)),
        radiometric_calibration=_triple(xmp.get("MicaSense:RadiometricCalibration"), path),
        sensor_gain_adjustment=xmp_float(xmp, "drone-dji:SensorGainAdjustment", path),
        sensor_model=_triple(xmp.get("Camera:SensorModel"), path),
        vignetting=_vignetting(vendor, xmp, path),
        irradiance=irradiance, irradiance_source=irr_source,
    )  # fmt: skip


def frame_channel_bands(path: Path) -> BandMap | None:
    """The band of each channel of a colour frame from its XMP (senseFly/Pix4D ``Camera:BandName``).

    A NIR-converted camera that declares its channels (e.g. ``NIR, Red, Green``) is identified
    without a user's filter string. None when the frame declares no channels.
    """
    _, xmp = _read_tags(path)
    names = xmp.get("Camera:BandName")
    if not names:
        return None
    waves = (xmp.get("Camera:CentralWavelength") or "").split(",")
    bands: dict[Band, int] = {}
    for number, text in enumerate(names.split(","), start=1):
        wave = waves[number - 1].strip() if number <= len(waves) else ""
        band = band_from_name(text) or (band_from_wavelength(float(wave)) if _is_number(wave) else None)
        if band is not None and band not in bands:
            bands[band] = number
    return BandMap(bands=bands, source="XMP Camera:BandName") if bands else None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_tags(path: Path) -> tuple[TiffTags, XmpValues]:
    with open(path, "rb") as fh:
        head = fh.read(4)
    if is_jpeg(head):
        hdr = read_jpeg_header(path)
        tags = TiffTags({}, {}, {})
        if hdr.exif is not None:
            tags = read_tiff_tags(hdr.exif, path, ifd0_tags=_IFD0, exif_tags=_EXIF)
        return tags, parse_xmp(hdr.xmp, path) if hdr.xmp else {}
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        tags = read_tiff_tags(mm, path, ifd0_tags=_IFD0, exif_tags=_EXIF, what="TIFF")
    packet = tags.ifd0.get(XMP_TAG)
    return tags, parse_xmp(packet, path) if isinstance(packet, bytes) else {}


def _text(value: object) -> str | None:
    return value.strip("\x00 ") or None if isinstance(value, str) else None


def _num(value: object) -> float | None:
    if isinstance(value, tuple) and value:
        return float(value[0])
    return None


def _vendor(make: str | None, xmp: XmpValues) -> Vendor:
    maker = (make or "").lower()
    if "micasense" in maker or any(k.startswith(("MicaSense:", "DLS:")) for k in xmp):
        return "micasense"
    if maker.startswith("dji") or any(k.startswith("drone-dji:") for k in xmp):
        return "dji"
    if "parrot" in maker or "Camera:SensorModel" in xmp:
        return "sequoia"
    return "generic"


def _numbers(text: str, path: Path, key: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.replace(",", " ").split())
    except ValueError:
        raise MetadataError(f"{path}: XMP {key}={text!r} is not a list of numbers") from None


def _triple(text: str | None, path: Path) -> tuple[float, float, float] | None:
    if not text:
        return None
    values = _numbers(text, path, "triple")
    if len(values) != 3:
        raise MetadataError(f"{path}: expected 3 numbers, got {text!r}")
    return values[0], values[1], values[2]


def _black_level(tags: TiffTags, xmp: XmpValues, path: Path) -> tuple[float | None, str | None]:
    levels = tags.ifd0.get(BLACK_LEVEL)
    if isinstance(levels, tuple) and levels:
        return sum(levels) / len(levels), "EXIF BlackLevel"
    for key in ("drone-dji:BlackLevel", "Camera:BlackCurrent", "drone-dji:BlackCurrent"):
        value = xmp_float(xmp, key, path)
        if value is not None:
            return value, f"XMP {key}"
    dark = xmp.get("MicaSense:DarkRowValue")
    if dark:
        values = _numbers(dark, path, "MicaSense:DarkRowValue")
        return sum(values) / len(values), "mean of XMP MicaSense:DarkRowValue (no EXIF BlackLevel)"
    return None, None


def _gain(vendor: Vendor, tags: TiffTags, xmp: XmpValues, path: Path) -> float | None:
    if vendor == "dji":
        gain = xmp_float(xmp, "drone-dji:SensorGain", path)
        if gain is not None:
            return gain
    iso = _num(tags.exif.get(ISO_SPEED)) or _num(tags.exif.get(ISO))  # ISOSpeed, PhotographicSensitivity
    return iso / 100.0 if iso else None


def _irradiance(vendor: Vendor, xmp: XmpValues, path: Path) -> tuple[float | None, str | None]:
    horizontal = xmp_float(xmp, "Camera:HorizontalIrradiance", path)
    if horizontal is not None:
        scale = xmp_float(xmp, "Camera:IrradianceScaleToSIUnits", path) or 1.0
        return horizontal * scale, "irradiance sensor, horizontal (Camera:HorizontalIrradiance)"
    if vendor == "dji":
        value = xmp_float(xmp, "drone-dji:Irradiance", path) or xmp_float(xmp, "Camera:Irradiance", path)
        return (value, "DJI sunlight sensor, compensated (Irradiance)") if value else (None, None)
    value = first_float(
        xmp, ("DLS:SpectralIrradiance", "Camera:SpectralIrradiance", "Camera:Irradiance"), path
    )
    if value is None:
        return None, None
    return value, "irradiance sensor, spectral at the sensor (not corrected for its tilt)"


def _native_scale(make: str | None, model: str | None, width: int) -> float:
    """Sensor pixels per frame pixel: the registry's native width over the frame's width."""
    profile = SENSORS.get(make, model)
    if profile is None or not profile.native_width or not width:
        return 1.0
    return profile.native_width / width


def _vignetting(vendor: Vendor, xmp: XmpValues, path: Path) -> Vignetting | None:
    poly = xmp.get("Camera:VignettingPolynomial") or xmp.get("drone-dji:VignettingData")
    if not poly:
        return None
    cx = first_float(xmp, ("drone-dji:CalibratedOpticalCenterX",), path)
    cy = first_float(xmp, ("drone-dji:CalibratedOpticalCenterY",), path)
    centre = xmp.get("Camera:VignettingCenter") or xmp.get("drone-dji:VignettingCenter")
    if cx is None or cy is None:
        if not centre:
            return None
        values = _numbers(centre, path, "VignettingCenter")
        if len(values) != 2:
            raise MetadataError(f"{path}: VignettingCenter {centre!r} is not two numbers")
        cx, cy = values
    return Vignetting(
        center=(cx, cy),
        coefficients=_numbers(poly, path, "VignettingPolynomial"),
        model="multiply" if vendor == "dji" else "divide",
    )
