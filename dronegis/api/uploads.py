"""Pilot uploads over HTTP: files one by one (resumable), many at once (multipart), or one zip.

Endpoints (pilot or gis role, bearer token; the flight itself: :mod:`dronegis.api.flights`):

- ``PUT /api/flights/{id}/files/{path}`` — one file as the raw body. With ``Content-Range: bytes a-b/n``
  a big file goes up in pieces: the first piece (a = 0) opens an upload session bound to the path and
  to n, answered with its ``Upload-Id``; later pieces send that ``Upload-Id`` header (a client may also
  choose the id itself on the first piece, so that it survives a connection lost mid-request).
  A piece at byte 0 restarts the session.
- ``POST /api/flights/{id}/uploads`` — the same as a tus-style creation: ``{path, length, sha256?,
  replace?}`` → ``201`` with ``Location`` and ``Upload-Id``; ``PATCH`` that location with
  ``Upload-Offset`` and the bytes; ``HEAD`` tells the offset; ``DELETE`` cancels.
- ``HEAD``/``GET /api/flights/{id}/files/{path}`` — the stored offset (``Upload-Offset``; of the
  session named by an ``Upload-Id`` header, else of the file or its newest session).
- ``POST /api/flights/{id}/files`` — multipart/form-data, one or many files, streamed to disk.
- ``POST /api/flights/{id}/zip`` — one zip as the raw body; every entry is checked before anything is
  unpacked (:mod:`dronegis.upload_zip`).

A complete upload identical to the stored file is a no-op (200, ``unchanged``); a new file is stored
(201); a changed file is refused (409) unless sent with ``?replace=true`` — then it replaces the old
one, which is kept. Re-sending a whole folder therefore stores only what is new. Two writers never
share bytes: each session has its own, and a session is written by one request at a time (a second
gets 409). The flight's byte limit (``Settings.max_upload_bytes``) counts files, kept versions and
every open session's reservation, so parallel requests cannot stage more than it together. Names are
decoded from UTF-8 or Latin-1 and checked before anything is written (4xx otherwise).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote_to_bytes

from fastapi import APIRouter, Header, Request, Response, status
from starlette.requests import ClientDisconnect

from core.errors import UploadConflict, UploadError, UploadNotFound
from dronegis.api import flights, upload_bulk
from dronegis.api.flight_models import Replace, UploadCreate, UploadStateOut
from dronegis.api.flights import Uploader, area_of, content_length
from dronegis.upload_models import Outcome, UploadSession
from dronegis.upload_names import decode_name, safe_relative_path
from dronegis.upload_store import UploadArea
from dronegis.upload_writer import SessionWriter, open_writer

files_router = APIRouter(prefix="/api/flights", tags=["uploads"])
router = APIRouter()
UploadId = Annotated[str | None, Header(alias="Upload-Id", description="the upload session to continue")]


def _request_name(request: Request, path: str) -> str:
    """The file path of the URL; percent-encoded bytes that are not UTF-8 are read as Latin-1."""
    if "\ufffd" not in path:
        return path
    raw: bytes = request.scope.get("raw_path") or b""
    _, found, rest = raw.partition(b"/files/")
    return decode_name(unquote_to_bytes(rest.decode("ascii", "replace"))) if found else path


def _parse_range(header: str | None, name: str) -> tuple[int, int | None, int | None]:
    """(start, end, total) from ``Content-Range: bytes a-b/n``; (0, None, None) without one."""
    if header is None:
        return 0, None, None
    parts = header.strip().removeprefix("bytes ").replace("/", "-").split("-")
    try:
        start, end, total = (int(p) for p in parts)
    except ValueError:
        start, end, total = -1, -1, -1
    if not header.strip().startswith("bytes ") or start < 0 or end < start or end >= total:
        raise UploadError(
            f"{name}: Content-Range {header!r} is not a consistent 'bytes a-b/n'",
            key="upload.bad_range",
            params={"value": header[:60]},
        )
    return start, end, total


def _session_for(
    area: UploadArea, name: str, *, start: int, length: int | None, upload_id: str | None, replace: bool
) -> UploadSession:
    """The session a piece belongs to: the one named by ``upload_id``, or a new one at byte 0."""
    if upload_id:
        try:
            session = area.session(upload_id)
        except UploadNotFound:
            if start != 0:
                raise
            return area.begin(name, length=length, replace=replace, upload_id=upload_id)
        if session.path != safe_relative_path(name).as_posix() or length not in (None, session.length):
            raise UploadConflict(
                f"flight {area.flight}: upload {upload_id} is of {session.path} ({session.length} bytes)",
                key="upload.id_taken",
                params={"file": name},
            )
        return session
    if start != 0:
        raise UploadConflict(
            f"flight {area.flight}: {name} resumes at byte {start}: send the Upload-Id of its upload",
            key="upload.need_id",
            params={"file": name},
        )
    return area.begin(name, length=length, replace=replace)


async def _receive(
    request: Request, response: Response, writer: SessionWriter, piece_end: int | None
) -> UploadStateOut:
    """Stream the body into ``writer``; complete the file when all its bytes are there."""
    session = writer.session
    try:
        async for chunk in request.stream():
            writer.write(chunk)
    except UploadError:
        writer.discard()
        raise
    except ClientDisconnect:
        writer.close()  # keep what arrived: the client resumes from here
        return Response(status_code=status.HTTP_400_BAD_REQUEST)  # type: ignore[return-value]
    if piece_end is not None and writer.offset != piece_end:
        got = writer.close()
        raise UploadError(
            f"{session.path}: body ended at byte {got}, Content-Range said {piece_end}",
            key="upload.short_body",
            params={"file": session.path, "got_bytes": got},
        )
    length = writer.session.length
    outcome = None
    if length is None or writer.offset == length:
        outcome = writer.complete()
        if outcome is Outcome.CONFLICT:
            raise UploadConflict(
                f"{session.path} was already uploaded with other content; send it with replace=true",
                key="upload.changed",
                params={"file": session.path},
            )
    else:
        writer.close()
    response.headers["Upload-Offset"] = str(writer.offset)
    response.headers["Upload-Id"] = session.id
    if outcome is None:
        response.headers["Location"] = f"/api/flights/{writer.area.flight}/uploads/{session.id}"
    created = outcome in (Outcome.STORED, Outcome.REPLACED)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return UploadStateOut(
        path=session.path,
        offset=writer.offset,
        complete=outcome is not None,
        total=length if length is not None else writer.offset,
        outcome=outcome,
        upload_id=None if outcome is not None else session.id,
    )


@files_router.put(
    "/{flight}/files/{path:path}",
    response_model=UploadStateOut,
    responses={
        201: {"description": "stored (or replaced)"},
        409: {"description": "changed content without replace, another writer, or a wrong offset"},
    },
)
async def put_file(
    flight: str,
    path: str,
    request: Request,
    response: Response,
    who: Uploader,
    replace: Replace = False,
    upload_id: UploadId = None,
    content_range: Annotated[str | None, Header(description="bytes a-b/n for a piece")] = None,
) -> UploadStateOut:
    """Store one file from the raw body, whole or as the ``Content-Range`` piece of a resumable upload."""
    area = area_of(request, flight, write=True)
    name = _request_name(request, path)
    start, end, total = _parse_range(content_range, name)
    length = total if content_range is not None else content_length(request)
    session = _session_for(area, name, start=start, length=length, upload_id=upload_id, replace=replace)
    writer = open_writer(area, session, start=start)
    return await _receive(request, response, writer, None if end is None else end + 1)


@files_router.api_route(
    "/{flight}/files/{path:path}",
    methods=["GET", "HEAD"],
    response_model=UploadStateOut,
    operation_id="upload_state",
)
def upload_state(
    flight: str, path: str, request: Request, response: Response, who: Uploader, upload_id: UploadId = None
) -> UploadStateOut:
    """The stored offset of a file's upload (``Upload-Offset``); resume from there with its Upload-Id."""
    area = area_of(request, flight)
    name = _request_name(request, path)
    if upload_id:
        session = area.session(upload_id)
        offset = area.offset(session)
        response.headers["Upload-Offset"] = str(offset)
        response.headers["Cache-Control"] = "no-store"
        return UploadStateOut(
            path=session.path, offset=offset, complete=False, total=session.length, upload_id=session.id
        )
    state = area.state(name)
    response.headers["Upload-Offset"] = str(state.offset)
    response.headers["Cache-Control"] = "no-store"
    return UploadStateOut(path=state.path, offset=state.offset, complete=state.complete, total=state.total)


# -- tus-style sessions -----------------------------------------------------------------------------


@files_router.post("/{flight}/uploads", status_code=status.HTTP_201_CREATED, response_model=UploadStateOut)
def create_upload(
    flight: str, body: UploadCreate, request: Request, response: Response, who: Uploader
) -> UploadStateOut:
    """Open a resumable upload of ``path`` with its total ``length``: send the bytes with ``PATCH`` to
    the ``Location`` (``Upload-Offset`` header), ask the offset with ``HEAD``."""
    area = area_of(request, flight, write=True)
    session = area.begin(body.path, length=body.length, sha256=body.sha256, replace=body.replace)
    outcome = area.commit(session) if body.length == 0 else None
    if outcome is Outcome.CONFLICT:
        raise UploadConflict(f"{session.path} differs", key="upload.changed", params={"file": session.path})
    response.headers["Upload-Offset"] = "0"
    response.headers["Upload-Id"] = session.id
    if outcome is None:
        response.headers["Location"] = f"/api/flights/{flight}/uploads/{session.id}"
    return UploadStateOut(
        path=session.path,
        offset=0,
        complete=outcome is not None,
        total=body.length,
        outcome=outcome,
        upload_id=None if outcome else session.id,
    )


@files_router.api_route(
    "/{flight}/uploads/{upload_id}",
    methods=["GET", "HEAD"],
    response_model=UploadStateOut,
    operation_id="upload_session_state",
)
def upload_session_state(
    flight: str, upload_id: str, request: Request, response: Response, who: Uploader
) -> UploadStateOut:
    """The offset of an open upload (``Upload-Offset``, ``Upload-Length``)."""
    area = area_of(request, flight)
    session = area.session(upload_id)
    offset = area.offset(session)
    response.headers["Upload-Offset"] = str(offset)
    if session.length is not None:
        response.headers["Upload-Length"] = str(session.length)
    response.headers["Cache-Control"] = "no-store"
    return UploadStateOut(
        path=session.path, offset=offset, complete=False, total=session.length, upload_id=upload_id
    )


@files_router.patch("/{flight}/uploads/{upload_id}", response_model=UploadStateOut)
async def patch_upload(
    flight: str,
    upload_id: str,
    request: Request,
    response: Response,
    who: Uploader,
    upload_offset: Annotated[int, Header(alias="Upload-Offset", ge=0, description="where these bytes go")],
) -> UploadStateOut:
    """Append bytes at ``Upload-Offset`` (the stored offset, or 0 to restart); completes at the length."""
    area = area_of(request, flight, write=True)
    writer = open_writer(area, area.session(upload_id), start=upload_offset)
    return await _receive(request, response, writer, None)


@files_router.delete("/{flight}/uploads/{upload_id}", status_code=status.HTTP_204_NO_CONTENT)
def cancel_upload(flight: str, upload_id: str, request: Request, who: Uploader) -> Response:
    """Cancel an open upload (its bytes are dropped)."""
    area = area_of(request, flight)
    area.drop(area.session(upload_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


router.include_router(flights.router)
router.include_router(files_router)
router.include_router(upload_bulk.router)
