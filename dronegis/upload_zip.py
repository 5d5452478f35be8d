"""A zip of a flight folder: every entry checked before anything is unpacked, then stored like a file.

Refused with 4xx before a byte is extracted: unreadable archives, too many entries,
names that are absolute, leave the folder, carry control characters or a component over
``NAME_MAX`` bytes, repeated entries, an entry that is both a file and the folder of
another (``a`` + ``a/b``, ``c/d`` + ``c``) or whose folder is an uploaded file, symbolic
links, encrypted entries and zip bombs (declared ratio, and the bytes actually
decompressed). Names without the zip's UTF-8 flag are decoded as UTF-8 when they are
valid, else as the DOS code page (cp850) old Windows tools write.

Entries are unpacked into a staging folder inside the session's reservation, then each is
installed with the outcomes of :meth:`dronegis.upload_store.UploadArea.commit` (identical:
unchanged; new: stored; different: conflict unless ``replace``).
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from core.errors import UploadError, UploadTooLarge
from dronegis.upload_models import CHUNK, Outcome, UploadSession, remove_tree
from dronegis.upload_names import decode_name, safe_relative_path, short, tree_conflicts
from dronegis.upload_store import UploadArea

MAX_ZIP_ENTRIES = 100_000
MAX_ZIP_RATIO = 200.0
_UTF8_FLAG = 0x800


def entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as the packing tool meant it (UTF-8 flag, else UTF-8 if valid, else cp850)."""
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    try:
        raw = info.orig_filename.encode("cp437")
    except UnicodeEncodeError:
        return info.orig_filename
    return decode_name(raw, legacy="cp850")


def check_zip(
    archive: zipfile.ZipFile, source: str, *, max_ratio: float = MAX_ZIP_RATIO
) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """The file entries of ``archive`` with their safe paths; :class:`UploadError` for the first refused.

    Checks every entry's name, kind and declared expansion, and the tree the entries make.
    """
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise UploadError(
            f"{source}: {len(infos)} entries, more than {MAX_ZIP_ENTRIES}",
            key="upload.zip_entries",
            params={"file": source, "n": len(infos), "max": MAX_ZIP_ENTRIES},
        )
    entries, folders = [], []
    for info in infos:
        name = entry_name(info)
        try:
            rel = safe_relative_path(name)
        except UploadError as exc:
            raise UploadError(f"{source}: {exc}", key=exc.key, params=exc.params) from exc
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode) or info.flag_bits & 0x1:
            why = "a symbolic link" if stat.S_ISLNK(mode) else "encrypted"
            raise UploadError(
                f"{source}: {short(name)} is {why}",
                key="upload.zip_link" if stat.S_ISLNK(mode) else "upload.zip_encrypted",
                params={"file": source, "entry": short(name)},
            )
        if info.is_dir():
            folders.append(rel)
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > CHUNK and ratio > max_ratio:
            raise UploadError(
                f"{source}: {short(name)} expands {ratio:.0f}x (limit {max_ratio:.0f}x): zip bomb",
                key="upload.zip_bomb",
                params={"file": source, "entry": short(name)},
            )
        entries.append((info, rel))
    _check_tree(source, [rel for _i, rel in entries], folders)
    return entries


def _check_tree(source: str, files: list[PurePosixPath], folders: list[PurePosixPath]) -> None:
    problems = tree_conflicts(files)
    file_set = set(files)
    problems += [
        f"{short(folder.as_posix())} is both a folder and a file" for folder in folders if folder in file_set
    ]
    if problems:
        raise UploadError(
            f"{source}: {'; '.join(problems[:5])}",
            key="upload.zip_tree",
            params={"file": source, "entry": problems[0]},
        )


def unpack_zip(
    area: UploadArea, session: UploadSession, *, replace: bool, max_ratio: float = MAX_ZIP_RATIO
) -> dict[Outcome, list[str]]:
    """Check the zip received by ``session``, unpack it and install every entry; the session ends.

    Nothing is unpacked when an entry is refused. The uncompressed bytes are reserved
    against the flight's limit before unpacking and counted as they are decompressed.

    Returns:
        The entries by outcome (stored, unchanged, replaced, conflict).
    """
    source = PurePosixPath(session.path).name
    zip_path = area.part_path(session.id)
    staging = area.partial / f"{session.id}.unzip"
    try:
        with zipfile.ZipFile(zip_path) as archive:
            entries = check_zip(archive, source, max_ratio=max_ratio)
            for _info, rel in entries:
                area.check_path(rel)
            declared = sum(info.file_size for info, _rel in entries)
            session = area.reserve(session, zip_path.stat().st_size + declared)
            written = 0
            for info, rel in entries:
                written = _extract(archive, info, staging / rel, written, declared, source)
        outcomes: dict[Outcome, list[str]] = {outcome: [] for outcome in Outcome}
        for _info, rel in entries:
            name = rel.as_posix()
            outcomes[area.commit_file(staging / rel, name, replace=replace, upload_id=session.id)].append(
                name
            )
        return outcomes
    except zipfile.BadZipFile as exc:
        raise UploadError(
            f"{source}: not a readable zip archive: {exc}",
            key="upload.zip_unreadable",
            params={"file": source},
        ) from exc
    finally:
        remove_tree(staging)
        area.drop(session)


def _extract(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, written: int, limit: int, source: str
) -> int:
    """Decompress one entry, refusing more bytes than the entries declared (a lying header)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(info) as src, open(target, "wb") as out:
        while chunk := src.read(CHUNK):
            written += len(chunk)
            if written > limit:
                raise UploadTooLarge(
                    f"{source}: expands past the {limit} bytes its entries declare: zip bomb",
                    key="upload.zip_bomb",
                    params={"file": source, "entry": short(info.filename)},
                )
            out.write(chunk)
    return written
