"""Fixtures of the service tests: settings with tokens and an in-process client with stand-in stages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from demo_site import DemoSite, build_demo, demo_layers, demo_vectors
from fastapi.testclient import TestClient
from svc_helpers import TOKENS, Service, standin_stages
from vector_site import VectorSite, build_vector_site, site_layers

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


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """The demo's layers (two of them internal) served by uvicorn on a random 127.0.0.1 port."""
    root = tmp_path_factory.mktemp("demo-site") / "ws"
    workspace = build_demo(root)
    with Service(root, root.parent / "service.log") as service:
        yield DemoSite(service, workspace, demo_layers(workspace), demo_vectors(workspace))


@pytest.fixture(scope="session")
def vector_site(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[VectorSite]:
    """One flight's vector products (hot spots internal) served by uvicorn on a random 127.0.0.1 port."""
    root = tmp_path_factory.mktemp("vector-site") / "ws"
    workspace = build_vector_site(root, data_dir)
    with Service(root, root.parent / "service.log") as service:
        yield VectorSite(service, workspace, site_layers(workspace))
