"""Fixtures of the change tests (the pairs themselves are made in change_pairs.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from change_pairs import shifted


@pytest.fixture(scope="session")
def odm_br(data_dir: Path) -> Path:
    return data_dir / "odm_br" / "odm_extra_gcp_br_ckeck.png"


@pytest.fixture
def make_shifted(odm_br: Path, tmp_path: Path) -> Callable[..., Path]:
    def _make(dx: float, dy: float, name: str = "after.tif", **kw: object) -> Path:
        return shifted(odm_br, tmp_path / name, dx, dy, **kw)  # type: ignore[arg-type]

    return _make
