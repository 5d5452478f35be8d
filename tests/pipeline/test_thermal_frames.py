"""Per-frame °C GeoTIFFs: uncompressed or lossless ZSTD, bit for bit (also by Debian's GDAL), in parallel."""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.errors import NotGeoreferencedWarning

from core.errors import UsageError
from dronegis.cli.main import cli
from pipeline.executors import ThreadExecutor
from pipeline.thermal.convert import convert_frame
from pipeline.thermal.frames import (
    DEFAULT_COMPRESSION,
    commit_frames,
    run_frames,
    stage_thermal_frame,
    write_thermal_frame,
)
from tests.samples import FLIR_RADIOMETRIC


def _read(path: Path) -> tuple[np.ndarray, dict[str, str], str | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path) as src:
            return src.read(1), src.tags(), src.profile.get("compress")


@pytest.mark.parametrize(("compression", "expected"), [(None, None), ("none", None), ("zstd", "zstd")])
def test_frame_is_lossless_and_another_gdal_reads_the_same_bits(
    data_dir: Path, tmp_path: Path, compression: str | None, expected: str | None
) -> None:
    celsius = convert_frame(data_dir / "thermal_parser/images/DJI_XT2.jpg").celsius.copy()
    celsius[0, :7] = np.nan
    options = {} if compression is None else {"compression": compression}
    dst = write_thermal_frame(celsius, tmp_path / "f.tif", **options)
    data, _, compress = _read(dst)
    assert DEFAULT_COMPRESSION == "none" and compress == expected  # default: uncompressed (issue 20)
    with warnings.catch_warnings():  # strips uncompressed, 256-px tiles with ZSTD
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(dst) as src:
            assert src.block_shapes[0] == ((256, 256) if expected else (src.block_shapes[0][0], 640))
    assert data.tobytes() == celsius.tobytes()  # bit for bit, NaN included
    # Debian's gdal-bin (GDAL 3.6, its own libtiff and libzstd) decodes the same float32 bits
    gdal_translate = shutil.which("gdal_translate")
    assert gdal_translate is not None, "gdal-bin is installed by scripts/setup.sh"
    raw = tmp_path / "f.bin"
    subprocess.run([gdal_translate, "-q", "-of", "ENVI", str(dst), str(raw)], check=True)
    assert np.fromfile(raw, dtype="<f4").reshape(celsius.shape).tobytes() == celsius.tobytes()


def test_cli_writes_every_flir_sample_in_parallel_bit_exact(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 4)  # four writer threads even on a one-CPU runner
    files = []
    for i, name in enumerate(FLIR_RADIOMETRIC * 2):
        files.append(tmp_path / "in" / f"{i:02d}_{Path(name).name.replace(' ', '_')}")
        files[-1].parent.mkdir(exist_ok=True)
        shutil.copy(data_dir / name, files[-1])
    result = CliRunner().invoke(cli, ["thermal", *map(str, files), "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)["files"]
    assert [r["file"] for r in report] == [str(f) for f in files]  # results in input order
    for path, entry in zip(files, report, strict=True):
        data, tags, compress = _read(Path(entry["output"]))
        expected = convert_frame(path).celsius
        assert data.tobytes() == expected.tobytes(), path.name
        assert compress is None and tags["DRONEGIS_UNITS"] == "°C"
        assert float(np.nanmin(data)) == pytest.approx(entry["min_c"])
        assert float(np.nanmean(data)) == pytest.approx(entry["mean_c"], abs=1e-3)


def test_cli_compresses_with_zstd_on_request_and_ranges_skip_nan(data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "thermal_parser/images/DJI_XT2.jpg"
    with_nan = tmp_path / "nan.tif"  # a float °C TIFF with no-data pixels
    celsius = convert_frame(src).celsius.copy()
    celsius[:10] = np.nan
    write_thermal_frame(celsius, with_nan)
    args = [str(src), str(with_nan), "--out", str(tmp_path / "out"), "--compress", "zstd", "--json"]
    result = CliRunner().invoke(cli, ["thermal", *args])
    assert result.exit_code == 0, result.stderr
    plain, holes = json.loads(result.stdout)["files"]
    data, _, compress = _read(Path(plain["output"]))
    assert compress == "zstd" and data.tobytes() == convert_frame(src).celsius.tobytes()
    finite = celsius[np.isfinite(celsius)]
    assert (holes["min_c"], holes["max_c"]) == (float(finite.min()), float(finite.max()))
    assert holes["mean_c"] == pytest.approx(float(finite.mean(dtype=np.float64)), abs=1e-4)
    bad = CliRunner().invoke(cli, ["thermal", str(src), "--out", str(tmp_path), "--compress", "lzma"])
    assert bad.exit_code == 2 and "lzma" in bad.output


def test_unknown_compression_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"f\.tif.*'lzma'.*none, zstd"):
        write_thermal_frame(np.zeros((4, 4), np.float32), tmp_path / "f.tif", compression="lzma")
    assert list(tmp_path.iterdir()) == []


def test_run_frames_keeps_order_and_leaves_the_warning_filters_as_they_were(tmp_path: Path) -> None:
    before = list(warnings.filters)
    frames = [np.full((300, 300), float(i), np.float32) for i in range(12)]

    def write(i: int) -> float:  # pixel-space frames: rasterio warns in every thread
        path = write_thermal_frame(frames[i], tmp_path / f"{i}.tif")
        return float(_read(path)[0][0, 0])

    assert run_frames(write, list(range(12)), ThreadExecutor(4)) == [float(i) for i in range(12)]
    assert warnings.filters == before


def test_staged_frames_appear_only_when_committed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frames = [np.full((4, 5), float(i), np.float32) for i in range(3)]
    staged = [stage_thermal_frame(f, tmp_path / "out" / f"{i}.tif") for i, f in enumerate(frames)]
    assert not list((tmp_path / "out").glob("*.tif"))  # only temporaries so far
    commit_frames(staged)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0.tif", "1.tif", "2.tif"]
    assert _read(tmp_path / "out" / "2.tif")[0].tobytes() == frames[2].tobytes()

    def full_disk(paths: list[Path]) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pipeline.thermal.frames.make_durable", full_disk)
    failing = [stage_thermal_frame(frames[0], tmp_path / "fail" / "a.tif")]
    with pytest.raises(OSError, match="No space left"):
        commit_frames(failing)
    assert list((tmp_path / "fail").iterdir()) == []  # no temporary left, nothing under a final name
