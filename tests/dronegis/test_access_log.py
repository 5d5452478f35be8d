"""The access log's hash chain (issue 16): edits, removals, insertions and unaccounted redactions show."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.errors import LayerNotFound
from dronegis.records.access import AccessBody, AccessLog, unaccounted_redactions, verify
from dronegis.records.recorder import AccessRecorder, redact_tokens, requested
from dronegis.settings import Settings


def filled(path: Path, count: int = 6) -> AccessLog:
    log = AccessLog(path)
    for n in range(count):
        log.append(
            AccessBody(
                at=datetime(2026, 3, 1, 12, n, tzinfo=UTC), who="gitte", role="gis", action="GetMap",
                layers=(f"f{n % 2}-ortho",), flights=(f"f{n % 2}",), reason="internal", path="/wms",
            )
        )  # fmt: skip
    return log


def rewrite(path: Path, lines: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def test_chain_verifies_and_names_the_line_that_was_changed_removed_or_inserted(tmp_path: Path) -> None:
    log = filled(tmp_path / "access.log")
    verdict = verify(log)
    assert verdict.ok and verdict.count == 6 and verdict.head == log.head().hash
    lines = [json.loads(t) for t in log.path.read_text().splitlines()]
    edited = json.loads(json.dumps(lines))
    edited[2]["body"]["who"] = "nobody"
    rewrite(log.path, edited)
    assert verify(log).problems == ("line 3: the body was changed (its sha256 differs)",)
    rewrite(log.path, lines[:3] + lines[4:])
    assert any("line 4" in p for p in verify(log).problems)
    rewrite(log.path, lines[:2] + [lines[0]] + lines[2:])
    assert not verify(log).ok


def test_redaction_keeps_the_chain_and_must_be_accounted_for(tmp_path: Path) -> None:
    log = filled(tmp_path / "access.log")
    done = log.redact(lambda body: "f1" in body.get("flights", ()), "erasure E1")
    assert done == [2, 4, 6]
    verdict = verify(log)
    assert verdict.ok and verdict.redacted == 3
    erasures = tmp_path / "erasures"
    erasures.mkdir()
    assert len(unaccounted_redactions(log, erasures)) == 3  # no record lists them yet
    (erasures / "E1.json").write_text(json.dumps({"id": "E1", "access_log_redacted": done}), encoding="utf-8")
    assert unaccounted_redactions(log, erasures) == []
    lines = [json.loads(t) for t in log.path.read_text().splitlines()]
    lines[0]["body"] = {"redacted": "erasure E1", "at": None}  # hiding a line behind a real erasure's marker
    rewrite(log.path, lines)
    assert verify(log).ok  # the chain alone cannot tell ...
    assert unaccounted_redactions(log, erasures) == [
        "line 1: redacted as 'erasure E1', but no erasure record lists it"
    ]  # ... the erasure record can


def test_tokens_are_redacted_and_reads_are_recognised() -> None:
    line = 'GET /tiles/a/View1/3/4/5.png?token=s3cr%20et&x=1 HTTP/1.1" 200'
    assert redact_tokens(line) == 'GET /tiles/a/View1/3/4/5.png?token=[redacted]&x=1 HTTP/1.1" 200'
    assert redact_tokens("/wms?SERVICE=WMS&TOKEN=abc") == "/wms?SERVICE=WMS&TOKEN=[redacted]"
    assert requested("/wms", {"REQUEST": "GetMap", "LAYERS": "a,b"}) == ("GetMap", ["a", "b"])
    assert requested("/wms", {"REQUEST": "GetCapabilities"}) == ("", [])
    assert requested("/wfs", {"REQUEST": "GetFeature", "TYPENAMES": "dg:a"}) == ("GetFeature", ["a"])
    assert requested("/layers/x/cog.tif", {}) == ("cog", ["x"])
    assert requested("/stac/orthophoto/x/x.json", {}) == ("stac", ["x"])


def test_the_recorder_looks_up_only_the_asked_layers_raster_or_vector(tmp_path: Path) -> None:
    """A read of an internal vector layer is recorded; a public raster, an unknown or a withheld id is not."""
    kind = SimpleNamespace(value="buildings")
    layers = {
        "pub": SimpleNamespace(
            id="pub", access="public", kind=SimpleNamespace(value="orthophoto"), flight="f1"
        ),
        "vec": SimpleNamespace(id="vec", access="internal", kind=kind, flight="f2"),
    }
    asked: list[str] = []

    def get(layer_id: str, internal: bool) -> SimpleNamespace:
        asked.append(layer_id)
        if layer_id != "pub":
            raise LayerNotFound(f"no layer {layer_id!r}")
        return layers["pub"]

    def find(layer_id: str, internal: bool) -> SimpleNamespace | None:
        return layers["vec"] if layer_id == "vec" and internal else None  # "gone": withheld or unknown

    store = SimpleNamespace(get=get, vectors=SimpleNamespace(find=find), layers=lambda: pytest.fail("table"))
    recorder = AccessRecorder(
        lambda *_: None, settings=Settings(workspace=tmp_path), access_log=AccessLog(tmp_path / "a.log")
    )

    def scope(path: str, query: str = "") -> dict[str, object]:
        state = SimpleNamespace(layer_store=store)
        return {"app": SimpleNamespace(state=state), "path": path, "query_string": query.encode(),
                "method": "GET", "headers": [], "client": ("127.0.0.1", 1)}  # fmt: skip

    entry = recorder.entry(scope("/wfs", "REQUEST=GetFeature&TYPENAMES=dg:vec,dg:gone"), 200)
    assert (
        entry is not None
        and entry.layers == ("vec",)
        and entry.flights == ("f2",)
        and entry.reason == "internal,download"  # GetFeature is a download
    )
    assert recorder.entry(scope("/tiles/pub/WebMercatorQuad/1/0/0.png"), 200) is None
    assert recorder.entry(scope("/tiles/gone/WebMercatorQuad/1/0/0.png"), 200) is None
    assert asked == ["vec", "gone", "pub", "gone"]
