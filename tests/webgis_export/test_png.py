"""The served PNG (webgis_export.png) reads back pixel for pixel in OpenCV, Pillow and GDAL."""

from __future__ import annotations

import io
import threading

import cv2
import numpy as np
import pytest
import rasterio
from PIL import Image
from rasterio.io import MemoryFile

from webgis_export import png
from webgis_export.png import encode_png
from webgis_export.render import Rendered, encode

#: A map PNG has no geotransform; GDAL says so when it opens one.
pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")


def _images() -> list[np.ndarray]:
    rng = np.random.default_rng(20)
    ramp = np.add.outer(np.arange(300), np.arange(257)).astype(np.uint8)  # wraps past 255: the Up filter
    return [
        rng.integers(0, 256, (1, 1, 3), dtype=np.uint8),
        rng.integers(0, 256, (1, 513, 4), dtype=np.uint8),
        rng.integers(0, 256, (257, 3, 3), dtype=np.uint8),
        np.dstack([ramp, ramp[::-1], 255 - ramp]),
        np.dstack([ramp, 255 - ramp, ramp, np.where(ramp > 100, 255, 0).astype(np.uint8)]),
        np.zeros((64, 64, 4), np.uint8),  # all transparent: long runs
    ]


@pytest.mark.parametrize("index", range(6))
def test_every_decoder_reads_the_pixels_written(index: int) -> None:
    pixels = _images()[index]
    png = encode_png(pixels)

    flag = cv2.IMREAD_UNCHANGED
    decoded = cv2.imdecode(np.frombuffer(png, np.uint8), flag)
    decoded = decoded.reshape(pixels.shape[0], pixels.shape[1], -1)
    order = [2, 1, 0, 3][: pixels.shape[2]]  # OpenCV answers BGR(A)
    assert np.array_equal(decoded[..., order], pixels)

    with Image.open(io.BytesIO(png)) as image:
        image.verify()  # chunk CRCs and the zlib stream
    with Image.open(io.BytesIO(png)) as image:
        assert image.mode == ("RGB" if pixels.shape[2] == 3 else "RGBA")
        assert np.array_equal(np.asarray(image), pixels)

    with MemoryFile(png) as memory, memory.open() as dataset:
        assert dataset.driver == "PNG"
        assert np.array_equal(dataset.read().transpose(1, 2, 0), pixels)


@pytest.mark.parametrize("helpers_free", [True, False])
def test_a_large_map_deflated_in_two_halves_or_in_one_reads_back(
    helpers_free: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From SPLIT_FROM bytes the two halves are deflated at once; with every helper busy, in one go."""
    rng = np.random.default_rng(7)
    smooth = np.add.outer(np.arange(700), np.arange(900)) // 7
    pixels = np.dstack([smooth, smooth // 2, rng.integers(0, 4, smooth.shape), smooth % 255]).astype(np.uint8)
    assert pixels[..., :3].size + 700 >= png.SPLIT_FROM
    if not helpers_free:
        monkeypatch.setattr(png, "_FREE", threading.BoundedSemaphore(1))
        png._FREE.acquire()
    halves: list[bool] = []
    raw_deflate = png._raw_deflate
    monkeypatch.setattr(
        png, "_raw_deflate", lambda rows, last: halves.append(last) or raw_deflate(rows, last)
    )
    for image in (pixels, pixels[..., :3]):
        encoded = encode_png(image)
        with Image.open(io.BytesIO(encoded)) as decoded:
            decoded.verify()
        with Image.open(io.BytesIO(encoded)) as decoded:
            assert np.array_equal(np.asarray(decoded), image)
    assert sorted(halves) == ([False, False, True, True] if helpers_free else [])


def test_a_view_with_strides_is_written_as_its_pixels() -> None:
    base = np.random.default_rng(3).integers(0, 256, (40, 60, 4), dtype=np.uint8)
    view = base[::2, 5:45, :3]  # not contiguous
    with Image.open(io.BytesIO(encode_png(view))) as image:
        assert np.array_equal(np.asarray(image), view)


@pytest.mark.parametrize(
    "pixels",
    [
        np.zeros((4, 4, 3), np.uint16),
        np.zeros((4, 4, 2), np.uint8),
        np.zeros((0, 4, 3), np.uint8),
    ],
)
def test_what_is_not_an_8_bit_rgb_or_rgba_image_is_refused_by_name(pixels: np.ndarray) -> None:
    with pytest.raises(ValueError, match=rf"RGBA image, not {pixels.dtype} \({pixels.shape[0]}, 4"):
        encode_png(pixels)


def test_map_encoding_keeps_transparency_and_fills_the_background() -> None:
    rgb = np.full((8, 8, 3), (10, 20, 30), np.uint8)
    alpha = np.full((8, 8), 255, np.uint8)
    alpha[:, :4] = 0
    image = Rendered(rgb, alpha)

    with Image.open(io.BytesIO(encode(image, "png"))) as transparent:
        assert transparent.mode == "RGBA"
        assert np.array_equal(np.asarray(transparent)[..., 3], alpha)
    with Image.open(io.BytesIO(encode(image, "png", transparent=False, bgcolor=(200, 100, 0)))) as filled:
        assert filled.mode == "RGB"
        assert np.asarray(filled)[0, 0].tolist() == [200, 100, 0]
        assert np.asarray(filled)[0, 7].tolist() == [10, 20, 30]
    assert np.array_equal(image.rgb, np.full((8, 8, 3), (10, 20, 30), np.uint8))  # the input is left alone
    with rasterio.open(io.BytesIO(encode(image, "jpeg", bgcolor=(200, 100, 0)))) as jpeg:
        assert np.abs(jpeg.read()[:, 0, 0].astype(int) - [200, 100, 0]).max() <= 3
