from pathlib import Path

import pytest

from core.atomic import TMP_SUFFIX, atomic_copy, atomic_open, atomic_write_text, sweep_temporaries


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.json"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert not list(target.parent.glob(f"*{TMP_SUFFIX}"))


def test_failed_write_leaves_old_content(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_open(target, "w") as handle:
        handle.write("half")  # type: ignore[arg-type]
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert not list(tmp_path.glob(f"*{TMP_SUFFIX}"))


def test_copy_is_byte_identical_and_sweep(tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(bytes(range(256)) * 1000)
    dst = tmp_path / "out" / "dst.bin"
    atomic_copy(src, dst)
    assert dst.read_bytes() == src.read_bytes()
    (tmp_path / "out" / f".x{TMP_SUFFIX}").write_text("left by a kill")
    assert sweep_temporaries(tmp_path / "out") == 1


def test_atomic_path_for_writers_that_create_by_name(tmp_path: Path) -> None:
    """A GeoPackage written by OGR under a temporary name: in place only when complete, fsynced."""
    import geopandas as gpd
    from shapely.geometry import Point

    from core.atomic import atomic_path

    target = tmp_path / "layers" / "points.gpkg"
    frame = gpd.GeoDataFrame({"n": [1, 2]}, geometry=[Point(0, 0), Point(1, 1)], crs="EPSG:25832")
    with atomic_path(target, suffix=".gpkg") as tmp:
        assert tmp.parent == target.parent and tmp.name.endswith(f"{TMP_SUFFIX}.gpkg") and not tmp.exists()
        frame.to_file(tmp, driver="GPKG", layer="points")
        assert not target.exists()
    assert len(gpd.read_file(target, layer="points")) == 2
    with pytest.raises(RuntimeError), atomic_path(target, suffix=".gpkg") as tmp:
        frame.iloc[:1].to_file(tmp, driver="GPKG", layer="points")
        raise RuntimeError("killed")
    assert len(gpd.read_file(target, layer="points")) == 2  # the old file, whole
    assert sorted(p.name for p in target.parent.iterdir()) == ["points.gpkg"]  # no temporary, no journal


def test_scratch_path_is_removed_and_swept(tmp_path: Path) -> None:
    from core.atomic import scratch_path

    with scratch_path(tmp_path / "out.tif", suffix=".tif") as scratch:
        scratch.write_bytes(b"x")
        Path(f"{scratch}.aux.xml").write_text("<x/>")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / f".a.gpkg.0{TMP_SUFFIX}.gpkg").write_bytes(b"")
    (tmp_path / f".a.gpkg.0{TMP_SUFFIX}.gpkg-wal").write_bytes(b"")
    assert sweep_temporaries(tmp_path) == 2 and list(tmp_path.iterdir()) == []
