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
