"""schemathesis against the service's OpenAPI document over real HTTP: no 5xx, bounded examples."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from demo_site import DemoSite
from hypothesis import HealthCheck, given, settings
from svc_helpers import GIS, Service

pytestmark = [pytest.mark.network, pytest.mark.slow]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("fuzz") / "ws"
    with Service(root, root.parent / "service.log") as svc:
        yield svc


@pytest.fixture(scope="module")
def api_schema(service: Service) -> object:
    return schemathesis.openapi.from_url(f"{service.url}/openapi.json")


def test_no_server_errors(api_schema: object, service: Service) -> None:
    """Every operation, a few generated cases each, with and without a GIS token: never a 5xx."""
    failures: list[tuple[str, str, int, str]] = []
    calls = 0
    for result in api_schema.get_all_operations():  # type: ignore[attr-defined]
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            nonlocal calls
            for headers in ({}, {"Authorization": f"Bearer {GIS}"}):
                response = case.call(base_url=service.url, headers=headers, timeout=30)
                calls += 1
                if response.status_code >= 500:
                    failures.append(
                        (case.method, case.formatted_path, response.status_code, response.text[:300])
                    )

        run()
    assert calls > 50
    assert failures == []


def test_no_server_errors_on_a_published_site(demo_site: DemoSite) -> None:
    """Every GET operation against the demo site (public and internal layers), without and with a token."""
    schema = schemathesis.openapi.from_url(f"{demo_site.url}/openapi.json")
    failures: list[tuple[str, str, int, str]] = []
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET" or operation.path.endswith("/events"):  # read-only; no streams
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=4,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            nonlocal calls
            for headers in ({}, {"Authorization": f"Bearer {GIS}"}):
                response = case.call(base_url=demo_site.url, headers=headers, timeout=60)
                calls += 1
                if response.status_code >= 500:
                    failures.append(
                        (case.method, case.formatted_path, response.status_code, response.text[:300])
                    )

        run()
    assert calls > 100
    assert failures == []


def test_openapi_lists_the_job_api(service: Service) -> None:
    import httpx

    paths = httpx.get(f"{service.url}/openapi.json").json()["paths"]
    for path in (
        "/api/flights",
        "/api/flights/{flight}/files",
        "/api/flights/{flight}/files/{path}",
        "/api/flights/{flight}/zip",
        "/api/flights/{flight}/finish",
        "/api/jobs/{job_id}",
        "/api/flights/{flight}/events",
        "/api/flights/{flight}/approve",
        "/flights/{flight}/qa",
    ):
        assert path in paths, path
