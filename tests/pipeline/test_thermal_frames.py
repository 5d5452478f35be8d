"""Per-frame °C GeoTIFFs: lossless ZSTD read back bit for bit (also by Debian's GDAL), written in parallel."""

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

from dronegis.cli.main import cli
from pipeline.executors import ThreadExecutor
from pipeline.thermal.convert import convert_frame
from pipeline.thermal.frames import (
    FRAME_COMPRESSION,
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


def test_frame_is_lossless_zstd_and_another_gdal_reads_the_same_bits(data_dir: Path, tmp_path: Path) -> None:
    celsius = convert_frame(data_dir / "thermal_parser/images/DJI_XT2.jpg").celsius.copy()
    celsius[0, :7] = np.nan
    dst = write_thermal_frame(celsius, tmp_path / "f.tif")
    data, _, compress = _read(dst)
    assert FRAME_COMPRESSION["compress"] == "zstd" and compress == "zstd"
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
        assert compress == "zstd" and tags["DRONEGIS_UNITS"] == "°C"
        assert float(np.nanmin(data)) == pytest.approx(entry["min_c"])


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
