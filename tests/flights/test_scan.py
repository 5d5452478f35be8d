from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.errors import IngestError
from flights.scan import scan_folder


def _codes(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {s.relpath: s.problem.code for s in result.skipped}


def test_lists_regular_files_hidden_nested_and_unicode(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    names = ["a.jpg", ".hidden", "sub/b c.txt", "sub/deeper/æøå.JPG", "sub/✈ ü.jpg"]
    for name in names:
        (tmp_path / name).write_bytes(b"x" * len(name))
    result = scan_folder(tmp_path)
    assert [f.relpath for f in result.files] == sorted(names)
    assert {f.relpath: f.size for f in result.files}["sub/b c.txt"] == len("sub/b c.txt")
    assert result.skipped == []


def test_symlinks_are_recorded_and_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(b"s")
    root = tmp_path / "flight"
    root.mkdir()
    (root / "frame.jpg").write_bytes(b"f")
    os.symlink(outside, root / "dir_out")
    os.symlink(outside / "secret.jpg", root / "file_out.jpg")
    os.symlink("frame.jpg", root / "inside.jpg")
    os.symlink("loop2", root / "loop1")
    os.symlink("loop1", root / "loop2")
    os.symlink("self", root / "self")
    os.symlink("nothing_here", root / "broken")
    os.symlink(".", root / "sub_loop")  # a link to its own folder: followed, this would recurse forever
    result = scan_folder(root)
    assert [f.relpath for f in result.files] == ["frame.jpg"]
    assert _codes(result) == {
        "broken": "symlink_broken",
        "dir_out": "symlink_outside",
        "file_out.jpg": "symlink_outside",
        "inside.jpg": "symlink_inside",
        "loop1": "symlink_loop",
        "loop2": "symlink_loop",
        "self": "symlink_loop",
        "sub_loop": "symlink_inside",
    }
    by_path = {s.relpath: s for s in result.skipped}
    assert by_path["file_out.jpg"].link_target == str(outside / "secret.jpg")
    assert "file_out.jpg" in by_path["file_out.jpg"].problem.message


def test_fifo_is_unreadable_and_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.jpg")  # opening it for reading would block forever
    (tmp_path / "ok.jpg").write_bytes(b"1")
    result = scan_folder(tmp_path)
    assert [f.relpath for f in result.files] == ["ok.jpg"]
    assert _codes(result) == {"pipe.jpg": "unreadable"}
    assert "FIFO" in result.skipped[0].problem.message


def test_unlistable_folder_is_a_problem_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, which ignores chmod 000; simulate the PermissionError os.scandir raises.
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "x.jpg").write_bytes(b"x")
    (tmp_path / "y.jpg").write_bytes(b"y")
    real = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr("flights.scan.os.scandir", scandir)
    result = scan_folder(tmp_path)
    assert [f.relpath for f in result.files] == ["y.jpg"]
    assert _codes(result) == {"locked": "unreadable"}


def test_non_utf8_name_is_escaped(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/bad\xff name.jpg"
    with open(raw, "wb") as handle:
        handle.write(b"z")
    result = scan_folder(tmp_path)
    assert len(result.files) == 1
    f = result.files[0]
    assert f.name_escaped
    assert f.relpath == "bad\\xff name.jpg"
    assert f.relpath.encode("utf-8")  # safe for JSON


def test_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(IngestError, match="not a directory"):
        scan_folder(tmp_path / "file")
    os.symlink(tmp_path, tmp_path / "link")
    with pytest.raises(IngestError):
        scan_folder(tmp_path / "link")


def test_ten_thousand_files(tmp_path: Path) -> None:
    for d in range(10):
        folder = tmp_path / f"d{d}"
        folder.mkdir()
        for i in range(1000):
            (folder / f"f{i:04d}.txt").write_bytes(b"")
    result = scan_folder(tmp_path)
    assert len(result.files) == 10_000
    assert result.files[0].relpath == "d0/f0000.txt"
    assert result.files[-1].relpath == "d9/f0999.txt"
