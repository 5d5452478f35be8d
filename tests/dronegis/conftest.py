"""Fixtures of the service tests: settings with tokens and an in-process client with stand-in stages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from svc_helpers import TOKENS, standin_stages

from dronegis.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(workspace=tmp_path / "ws", tokens=TOKENS, max_upload_bytes=5_000_000)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    from dronegis.api.app import create_app

    app = create_app(settings)
    app.state.job_stages = standin_stages()
    with TestClient(app) as c:
        yield c
