"""Many files in one request: multipart/form-data, or one zip (every entry checked before unpacking).

Part of the upload API (:mod:`dronegis.api.uploads`): each file or entry ends ``stored``,
``unchanged`` (identical to the stored file), ``replaced`` (with ``?replace=true``; the old
version is kept) or in ``conflicts`` (changed, not stored: 409 listing them, with what was stored).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from core.errors import UploadError
from core.i18n import both, size
from dronegis.api.flight_models import FilesOut, Replace
from dronegis.api.flights import Uploader, api_lang, area_of, content_length
from dronegis.upload_models import Outcome
from dronegis.upload_names import decode_name
from dronegis.upload_store import UploadArea
from dronegis.upload_writer import SessionWriter, open_writer
from dronegis.upload_zip import unpack_zip

router = APIRouter(prefix="/api/flights", tags=["uploads"])


class _MultipartSink:
    """python-multipart callbacks that stream each file part into its own upload session."""

    def __init__(self, area: UploadArea, replace: bool) -> None:
        self.area, self.replace = area, replace
        self.outcomes: dict[Outcome, list[str]] = {outcome: [] for outcome in Outcome}
        self.writer: SessionWriter | None = None
        self._field, self._value = b"", b""
        self._headers: dict[bytes, bytes] = {}

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._hfield,
            "on_header_value": self._hvalue,
            "on_header_end": self._hend,
            "on_headers_finished": self._headers_done,
            "on_part_data": self._data,
            "on_part_end": self._end,
        }

    def _begin(self) -> None:
        self._headers, self.writer = {}, None

    def _hfield(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _hvalue(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _hend(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _headers_done(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        filename = params.get(b"filename")
        if filename is not None:
            session = self.area.begin(decode_name(filename), length=None, replace=self.replace)
            self.writer = open_writer(self.area, session, start=0)

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.writer is not None:
            self.writer.write(data[start:end])

    def _end(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            self.outcomes[writer.complete()].append(writer.session.path)


def _files_out(request: Request, area: UploadArea, outcomes: dict[Outcome, list[str]]) -> Response | FilesOut:
    """The outcome of a multipart or zip request: 200, or 409 listing the changed files not stored."""
    used = area.used_bytes()
    out = FilesOut(
        stored=outcomes[Outcome.STORED],
        unchanged=outcomes[Outcome.UNCHANGED],
        replaced=outcomes[Outcome.REPLACED],
        conflicts=outcomes[Outcome.CONFLICT],
        files=area.completed(),
        bytes=used,
        size_text=size(used, api_lang(request)),
    )
    if not out.conflicts:
        return out
    messages = both("upload.changed_many", n=len(out.conflicts), files=", ".join(out.conflicts[:5]))
    detail = (
        f"flight {area.flight}: changed files not stored without replace=true: {', '.join(out.conflicts)}"
    )
    body = {
        **out.model_dump(),
        "detail": detail,
        "message": messages[api_lang(request)],
        "messages": messages,
    }
    return JSONResponse(body, status_code=status.HTTP_409_CONFLICT)


@router.post(
    "/{flight}/files",
    response_model=FilesOut,
    responses={409: {"description": "some files differ from the stored ones and were not stored"}},
)
async def upload_files(flight: str, request: Request, who: Uploader, replace: Replace = False) -> Any:
    """Store the files of a multipart/form-data body (any field name; the part's filename is the path)."""
    area = area_of(request, flight, write=True)
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise UploadError(
            f"flight {flight}: expected multipart/form-data with a boundary", key="upload.not_multipart"
        )
    sink = _MultipartSink(area, replace)
    parser = MultipartParser(boundary, sink.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except (UploadError, ValueError) as exc:
        if sink.writer is not None:
            sink.writer.discard()
        if isinstance(exc, UploadError):
            raise
        raise UploadError(
            f"flight {flight}: unreadable multipart body: {exc}", key="upload.not_multipart"
        ) from exc
    except ClientDisconnect:
        if sink.writer is not None:
            sink.writer.discard()
        return Response(status_code=status.HTTP_400_BAD_REQUEST)
    if sink.writer is not None:
        sink.writer.discard()
        raise UploadError(
            f"flight {flight}: multipart body ended inside a file part", key="upload.not_multipart"
        )
    return _files_out(request, area, sink.outcomes)


@router.post(
    "/{flight}/zip",
    response_model=FilesOut,
    responses={409: {"description": "some entries differ from the stored files and were not stored"}},
)
async def upload_zip(flight: str, request: Request, who: Uploader, replace: Replace = False) -> Any:
    """Store one zip from the raw body, check every entry, then unpack it into the flight's files."""
    area = area_of(request, flight, write=True)
    session = area.begin("upload.zip", length=content_length(request), archive=True)
    writer = open_writer(area, session, start=0)
    try:
        async for chunk in request.stream():
            writer.write(chunk)
    except UploadError:
        writer.discard()
        raise
    except ClientDisconnect:
        writer.discard()
        return Response(status_code=status.HTTP_400_BAD_REQUEST)
    writer.close()
    return _files_out(request, area, unpack_zip(area, writer.session, replace=replace))
