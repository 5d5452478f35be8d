"""The upload store without a server: names, sessions, versions, the limit, zips checked before unpacking."""

from __future__ import annotations

import io
import stat
import threading
import warnings
import zipfile
from pathlib import Path

import pytest

from core.errors import UploadConflict, UploadError, UploadNotFound, UploadTooLarge
from core.workspace import Workspace
from dronegis.upload_cleanup import drop_orphans, remove_file
from dronegis.upload_models import Outcome, sha256_of
from dronegis.upload_names import NAME_MAX, decode_name, safe_relative_path, tree_conflicts
from dronegis.upload_store import UploadArea
from dronegis.upload_writer import open_writer
from dronegis.upload_zip import unpack_zip


def zip_bytes(entries: list[tuple[str, bytes]], *, symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def put(area: UploadArea, name: str, data: bytes, *, replace: bool = False) -> Outcome:
    writer = open_writer(area, area.begin(name, length=len(data), replace=replace), start=0)
    writer.write(data)
    return writer.complete()


def unzip(area: UploadArea, data: bytes, *, replace: bool = False) -> dict[Outcome, list[str]]:
    writer = open_writer(area, area.begin("upload.zip", length=None, archive=True), start=0)
    writer.write(data)
    writer.close()
    return unpack_zip(area, writer.session, replace=replace)


@pytest.fixture
def area(tmp_path: Path) -> UploadArea:
    return UploadArea(Workspace.at(tmp_path / "ws"), "f1", limit=1_000_000)


# -- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "/etc/passwd",
        "../x.jpg",
        "a/../../x",
        "C:\\x.jpg",
        "a\\..\\..\\b",
        "",
        "a\x00b",
        "a\x7fb",
        "x" * 256,
        "d/" + "é" * 128 + ".jpg",
        "\udce6.jpg",
    ],
)
def test_unsafe_names_refused(name: str) -> None:
    with pytest.raises(UploadError):
        safe_relative_path(name)


def test_safe_names_normalised() -> None:
    assert safe_relative_path("DCIM\\100MEDIA\\DJI_0001.JPG").as_posix() == "DCIM/100MEDIA/DJI_0001.JPG"
    assert safe_relative_path("./a//b æø.jpg").as_posix() == "a/b æø.jpg"
    assert safe_relative_path("x" * NAME_MAX).name == "x" * NAME_MAX  # exactly NAME_MAX bytes is fine


def test_latin1_and_dos_names_decoded() -> None:
    assert decode_name("billede_æøå.JPG".encode("latin-1")) == "billede_æøå.JPG"
    assert decode_name("billede_æøå.JPG".encode()) == "billede_æøå.JPG"
    assert decode_name("billede_æøå.JPG".encode("cp850"), legacy="cp850") == "billede_æøå.JPG"


def test_tree_conflicts() -> None:
    from pathlib import PurePosixPath as P

    assert tree_conflicts([P("a"), P("a/b")]) == ["a is both a file and the folder of a/b"]
    assert tree_conflicts([P("c/d"), P("c")]) == ["c is both a file and the folder of c/d"]
    assert tree_conflicts([P("x"), P("x")]) == ["x appears twice"]
    assert tree_conflicts([P("a/b"), P("a/c")]) == []


# -- sessions, outcomes, versions -------------------------------------------------------------------


def test_identical_new_changed_and_replaced(area: UploadArea) -> None:
    assert put(area, "DCIM/a.jpg", b"one") is Outcome.STORED
    assert put(area, "DCIM/a.jpg", b"one") is Outcome.UNCHANGED
    assert put(area, "DCIM/a.jpg", b"two") is Outcome.CONFLICT
    assert (area.files / "DCIM/a.jpg").read_bytes() == b"one"
    assert put(area, "DCIM/a.jpg", b"two", replace=True) is Outcome.REPLACED
    assert (area.files / "DCIM/a.jpg").read_bytes() == b"two"
    entry = area.index().files["DCIM/a.jpg"]
    [old] = entry.versions
    assert (area.versions / old.kept_as).read_bytes() == b"one" and old.size == 3
    assert area.used_bytes() == 6  # the kept version counts
    assert area.sessions() == [] and area.pending() == []


def test_resume_restart_and_offsets(area: UploadArea) -> None:
    data = bytes(range(256)) * 4
    session = area.begin("b.bin", length=len(data))
    writer = open_writer(area, session, start=0)
    writer.write(data[:300])
    assert writer.close() == 300
    assert area.state("b.bin").offset == 300 and area.pending() == ["b.bin"]
    with pytest.raises(UploadConflict, match="resumes at byte 300"):
        open_writer(area, session, start=200)
    busy = open_writer(area, session, start=300)
    with pytest.raises(UploadConflict, match="being written"):
        open_writer(area, session, start=300)  # a second writer of the same session
    busy.close()
    writer = open_writer(area, session, start=0)  # a restart at 0 truncates
    writer.write(data[:10])
    writer.close()
    assert area.offset(session) == 10
    writer = open_writer(area, session, start=10)
    with pytest.raises(UploadError, match="longer than its declared"):
        writer.write(data[10:] + b"x")
    writer.discard()
    assert area.sessions() == []
    with pytest.raises(UploadNotFound):
        area.session(session.id)


def test_declared_sha256_is_checked(area: UploadArea) -> None:
    session = area.begin("c.bin", length=3, sha256="0" * 64)
    writer = open_writer(area, session, start=0)
    writer.write(b"abc")
    with pytest.raises(UploadError, match="declared"):
        writer.complete()
    assert area.completed() == [] and area.sessions() == []


def test_limit_counts_reservations(tmp_path: Path) -> None:
    area = UploadArea(Workspace.at(tmp_path / "ws"), "f2", limit=1000)
    held = area.begin("a.bin", length=700)  # reserved, not written yet
    with pytest.raises(UploadTooLarge):
        area.begin("b.bin", length=400)
    streaming = open_writer(area, area.begin("c.bin", length=None), start=0)
    streaming.write(b"x" * 250)
    with pytest.raises(UploadTooLarge):
        streaming.write(b"x" * 100)  # 700 + 350 > 1000
    streaming.discard()
    area.drop(held)
    assert area.used_bytes() == 0
    assert put(area, "b.bin", b"y" * 400) is Outcome.STORED


def test_limit_holds_for_parallel_writers(tmp_path: Path) -> None:
    """10 threads stream 300 bytes each without declaring a length into a 1000-byte flight."""
    area = UploadArea(Workspace.at(tmp_path / "ws"), "f3", limit=1000)
    results: list[str] = []

    def one(i: int) -> None:
        writer = open_writer(area, area.begin(f"p{i}.bin", length=None), start=0)
        try:
            for _ in range(3):
                writer.write(b"z" * 100)
        except UploadTooLarge:
            writer.discard()  # as the HTTP layer does
            results.append("too large")
        else:
            results.append(str(writer.complete()))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    stored = results.count("stored")
    assert 1 <= stored <= 3 and results.count("too large") == 10 - stored  # never more than the limit
    assert area.used_bytes() == 300 * stored == sum(p.stat().st_size for p in area.files.iterdir())
    assert all(p.read_bytes() == b"z" * 300 for p in area.files.iterdir()) and area.sessions() == []


def test_child_under_a_file_and_folder_names(area: UploadArea) -> None:
    put(area, "a", b"file")
    with pytest.raises(UploadConflict, match="a is a file"):
        area.begin("a/b", length=1)
    put(area, "c/d", b"1")
    with pytest.raises(UploadConflict, match="folder"):
        area.begin("c", length=1)
    assert area.pending() == [] and drop_orphans(area) == []


def test_remove_before_finish(area: UploadArea) -> None:
    put(area, "x/wrong.jpg", b"oops")
    area.begin("x/wrong.jpg", length=10, replace=True)
    assert sorted(remove_file(area, "x/wrong.jpg"))[-1] == "x/wrong.jpg"
    assert area.completed() == [] and area.sessions() == [] and not (area.files / "x").exists()
    with pytest.raises(UploadNotFound):
        remove_file(area, "x/wrong.jpg")


def test_orphans_of_stored_files_are_dropped(area: UploadArea) -> None:
    put(area, "a.jpg", b"a")
    orphan = area.begin("a.jpg", length=1)  # a client that lost its connection and sent it again
    pending = area.begin("b.jpg", length=5)
    assert drop_orphans(area) == [pending]
    with pytest.raises(UploadNotFound):
        area.session(orphan.id)


# -- zips ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entries",
    [
        [("a", b"1"), ("a/b", b"2")],
        [("c/d", b"1"), ("c", b"2")],
        [("x" * 256 + ".jpg", b"1")],
        [("dup.jpg", b"1"), ("ok.jpg", b"2"), ("dup.jpg", b"3")],
        [("ok.txt", b"1"), ("../../evil.txt", b"x")],
        [("/tmp/evil.txt", b"x")],
        [("z.bin", b"\0" * 20_000_000)],
    ],
    ids=["a+a/b", "c/d+c", "255+", "duplicate", "slip", "absolute", "bomb"],
)
def test_hostile_zips_unpack_nothing(tmp_path: Path, entries: list[tuple[str, bytes]]) -> None:
    area = UploadArea(Workspace.at(tmp_path / "ws"), "z", limit=50_000_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about the duplicate it writes
        data = zip_bytes(entries)
    with pytest.raises(UploadError):
        unzip(area, data)
    assert area.completed() == [] and area.sessions() == []
    assert not area.files.exists() or not any(area.files.iterdir())
    assert [p.name for p in area.partial.iterdir()] == [".lock"]  # no staging left behind


def test_zip_symlink_and_unreadable(area: UploadArea) -> None:
    with pytest.raises(UploadError, match="symbolic link"):
        unzip(area, zip_bytes([("ok.txt", b"1")], symlink="link"))
    with pytest.raises(UploadError, match="not a readable zip"):
        unzip(area, b"PK\x03\x04 not really")
    assert area.completed() == []


def test_zip_outcomes_and_dos_names(area: UploadArea) -> None:
    put(area, "gcp_list.txt", b"EPSG:25832\n")
    put(area, "old.jpg", b"old")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("gcp_list.txt", b"EPSG:25832\n")
        zf.writestr("old.jpg", b"new")
        zf.writestr("billede_QQQ.jpg", b"dk")
    data = buf.getvalue().replace(b"QQQ", "æøå".encode("cp850"))  # as a DOS tool names it: no UTF-8 flag
    outcomes = unzip(area, data)
    assert outcomes[Outcome.UNCHANGED] == ["gcp_list.txt"]
    assert outcomes[Outcome.CONFLICT] == ["old.jpg"]
    assert outcomes[Outcome.STORED] == ["billede_æøå.jpg"]
    assert (area.files / "old.jpg").read_bytes() == b"old"
    assert unzip(area, data, replace=True)[Outcome.REPLACED] == ["old.jpg"]
    assert sha256_of(area.files / "old.jpg") == area.index().files["old.jpg"].sha256


def test_zip_entry_under_an_uploaded_file(area: UploadArea) -> None:
    put(area, "c", b"file")
    with pytest.raises(UploadConflict):
        unzip(area, zip_bytes([("c/d", b"1")]))
    assert area.completed() == ["c"]
