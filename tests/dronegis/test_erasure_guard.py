"""Erasure and holds take flight ids only: a path such as '..' never reaches the file system."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.errors import ErasureError
from core.workspace import Workspace
from dronegis.records.erasure import erase
from dronegis.records.holds import place_hold


@pytest.mark.parametrize("flight", ["..", ".", "../archive", "a/b", "", "x" * 65, "flight\x00"])
def test_no_path_is_a_flight(tmp_path: Path, flight: str) -> None:
    ws = Workspace.at(tmp_path / "ws")
    (ws.root / "archive" / "kept").mkdir(parents=True)
    (ws.root / "archive" / "kept" / "a.jpg").write_bytes(b"x")
    with pytest.raises(ErasureError):
        erase(ws, flight, reason="test", by="test", now=datetime.now(UTC))
    with pytest.raises(ErasureError):
        place_hold(ws, flight, reason="test", by="test", now=datetime.now(UTC))
    assert (ws.root / "archive" / "kept" / "a.jpg").exists()


def test_unknown_flight_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ErasureError, match="no flight 'nothing-here'"):
        erase(Workspace.at(tmp_path / "ws"), "nothing-here", reason="t", by="t", now=datetime.now(UTC))
