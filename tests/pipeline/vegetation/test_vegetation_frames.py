"""Band frames: the WebODM MicaSense fixture with its calibration, DJI and Sequoia frames, panels."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational, ImageFileDirectory_v2

from core.errors import RasterInputError, UsageError
from pipeline.vegetation import Band, Calibration, panel_factor, read_band_frame
from pipeline.vegetation.calibrate import frame_reflectance
from pipeline.vegetation.frames import frame_channel_bands

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


@pytest.fixture(scope="module")
def micasense(data_dir: Path) -> Path:
    return data_dir / "webodm_fixtures" / "app" / "fixtures" / "tiny_drone_image_multispec.tif"


def test_micasense_fixture_is_read_as_a_band_with_calibration(micasense: Path) -> None:
    frame = read_band_frame(micasense)
    assert (frame.vendor, frame.make, frame.model) == ("micasense", "MicaSense", "RedEdge-M")
    assert (frame.band, frame.band_name, frame.central_wavelength_nm, frame.fwhm_nm) == (
        Band.BLUE,
        "Blue",
        475,
        20,
    )
    assert frame.radiometric_calibration == pytest.approx(
        (0.00014568261619008727, 1.0865645691885123e-07, -8.9156511369331752e-06)
    )
    assert frame.exposure_s == pytest.approx(0.0017775)  # exiftool -n: 0.0017775 s (prints 1/563)
    assert frame.gain == 2.0  # ISO 200 / 100
    assert frame.bits_per_sample == 16
    # GIMP dropped EXIF BlackLevel; the dark rows the camera recorded stand in
    assert frame.black_level == pytest.approx(np.mean([5304, 5331, 5267, 5239]))
    assert "DarkRowValue" in (frame.black_level_source or "")
    assert frame.irradiance == pytest.approx(0.98138427734375)
    assert "not corrected for its tilt" in (frame.irradiance_source or "")
    assert frame.vignetting is not None and frame.vignetting.model == "divide"
    assert frame.vignetting.center == pytest.approx((542.73635777406855, 483.77113826908686))
    assert len(frame.vignetting.coefficients) == 6
    assert frame.native_scale == pytest.approx(1280 / 48)  # resized from the RedEdge-M's 1280 px


def test_micasense_reflectance_matches_the_vendor_formula(micasense: Path) -> None:
    """Reflectance against MicaSense's radiance model written out here (ODM's polyval form)."""
    got = frame_reflectance(micasense)
    frame = got.frame
    dn = cv2.imread(str(micasense), cv2.IMREAD_UNCHANGED).astype(float)  # another decoder than ours
    a1, a2, a3 = frame.radiometric_calibration  # type: ignore[misc]
    t, g, s = 0.0017775, 2.0, 1280 / 48  # exiftool -n ExposureTime, ISOSpeed/100
    cols, rows = np.meshgrid(np.arange(48), np.arange(36))
    x, y = (cols + 0.5) * s - 0.5, (rows + 0.5) * s - 0.5
    k = list(frame.vignetting.coefficients)  # type: ignore[union-attr]
    vignette = 1.0 / np.polyval([*reversed(k), 1.0], np.hypot(x - 542.73635777406855, y - 483.77113826908686))
    radiance = vignette * (dn - 5285.25) / (1.0 + a2 * y / t - a3 * y)
    radiance = np.maximum(radiance, 0) / (g * t) * a1 / 65536.0
    expected = radiance * math.pi / 0.98138427734375
    assert got.calibration is Calibration.IRRADIANCE
    np.testing.assert_allclose(got.values, expected, rtol=1e-6)
    # plausible blue reflectance of ground seen from the air
    assert 0.005 < float(np.median(got.values)) < 0.2


def _frame(path: Path, dn: np.ndarray, make: str, model: str, xmp_attrs: dict[str, str], exif: dict) -> Path:
    ns = {"Camera": "http://pix4d.com/camera/1.0/", "drone-dji": "http://www.dji.com/drone-dji/1.0/"}
    attrs = " ".join(f'{k}="{v}"' for k, v in xmp_attrs.items())
    decl = " ".join(f'xmlns:{p}="{u}"' for p, u in ns.items())
    xmp = (
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{RDF}">'
        f"<rdf:Description {decl} {attrs}/></rdf:RDF></x:xmpmeta>"
    )
    info = ImageFileDirectory_v2()
    info[271], info[272], info[700] = make, model, xmp.encode()
    if "black" in exif:
        info[0xC61A] = (exif.pop("black"),) * 4
        info.tagtype[0xC61A] = 4
    info[34665] = exif
    Image.fromarray(dn.astype(np.uint16)).save(path, tiffinfo=info)
    return path


def test_dji_p4_multispectral_frame(tmp_path: Path) -> None:
    dn = np.full((8, 10), 20000)
    xmp = {
        "Camera:BandName": "NIR", "Camera:CentralWavelength": "840", "drone-dji:SensorGain": "1.5",
        "drone-dji:ExposureTime": "1000", "drone-dji:SensorGainAdjustment": "1.2",
        "drone-dji:Irradiance": "2000",
        "drone-dji:CalibratedOpticalCenterX": "5", "drone-dji:CalibratedOpticalCenterY": "4",
        "drone-dji:VignettingData": "0.001, 0, 0, 0, 0, 0",
    }  # fmt: skip
    path = _frame(tmp_path / "DJI_0015.TIF", dn, "DJI", "FC6360", xmp, {"black": 4096})
    got = frame_reflectance(path)
    assert (got.frame.vendor, got.frame.band, got.frame.exposure_s, got.frame.gain) == (
        "dji",
        Band.NIR,
        1e-3,
        1.5,
    )
    assert got.calibration is Calibration.RELATIVE
    cols, rows = np.meshgrid(np.arange(10), np.arange(8))
    r = np.hypot(cols - 5, rows - 4)
    expected = (20000 - 4096) / 65535 * (1 + 0.001 * r) / (1.5 * 1e-3) * 1.2 / 2000
    np.testing.assert_allclose(got.values, expected, rtol=1e-9)


def test_sequoia_frame_without_irradiance_is_uncalibrated(tmp_path: Path) -> None:
    xmp = {"Camera:BandName": "NIR", "Camera:CentralWavelength": "790", "Camera:SensorModel": "1.5,100,0.2"}
    exif = {0x829A: IFDRational(1, 1000), 0x8827: 100, 0x829D: IFDRational(22, 10)}
    path = _frame(
        tmp_path / "IMG_180101_000000_0000_NIR.TIF", np.full((6, 6), 1100), "Parrot", "Sequoia", xmp, exif
    )
    got = frame_reflectance(path)
    assert (got.frame.vendor, got.frame.band, got.calibration) == (
        "sequoia",
        Band.NIR,
        Calibration.UNCALIBRATED,
    )
    np.testing.assert_allclose(got.values, 2.2**2 * (1100 - 100) / (1.5 * 1e-3 * 100 + 0.2), rtol=1e-9)


def test_panel_calibration_is_absolute(micasense: Path) -> None:
    radiance = frame_reflectance(micasense)
    # the brightest 10 % of the frame stands in for a 50 % panel
    panel = radiance.values[radiance.values >= np.percentile(radiance.values, 90)]
    factor = panel_factor(panel / (math.pi / radiance.frame.irradiance), 0.5)  # type: ignore[operator]
    got = frame_reflectance(micasense, panel=factor)
    assert got.calibration is Calibration.PANEL
    assert float(np.mean(got.values[radiance.values >= np.percentile(radiance.values, 90)])) == pytest.approx(
        0.5
    )
    with pytest.raises(UsageError, match="panel reflectance"):
        panel_factor(panel, 1.5)


def test_a_colour_frame_is_not_a_band_frame_but_declares_its_channels(data_dir: Path) -> None:
    photo = data_dir / "webodm_fixtures" / "app" / "fixtures" / "tiny_drone_image.jpg"  # senseFly Canon S110
    with pytest.raises(
        RasterInputError, match="tiny_drone_image.jpg: XMP Camera:BandName 'Red, Green, Blue'"
    ):
        read_band_frame(photo)
    channels = frame_channel_bands(photo)
    assert channels is not None and channels.bands == {Band.RED: 1, Band.GREEN: 2, Band.BLUE: 3}


def test_a_photo_without_band_metadata(data_dir: Path) -> None:
    photo = data_dir / "brighton_beach" / "images" / "DJI_0018.JPG"
    with pytest.raises(RasterInputError, match="DJI_0018.JPG: no XMP Camera:BandName"):
        read_band_frame(photo)
    assert frame_channel_bands(photo) is None
