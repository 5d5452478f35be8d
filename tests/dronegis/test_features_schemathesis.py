"""schemathesis over the feature routes (OGC API – Features, WFS, GeoPackages) of a site with collections.

Every generated request is sent as generated and again against a real collection (its
``collectionId``/``layer`` replaced), anonymously and with a GIS token: never a 5xx, and an
anonymous caller never reads the id of the internal collection unless it asked for it by name
(a 404 names what was asked for, whether it exists or not).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from svc_helpers import GIS
from vector_site import BUILDINGS, FOOTPRINTS, HOT_SPOTS, VectorSite

pytestmark = [pytest.mark.network, pytest.mark.slow]
ROUTES = ("/ogcapi", "/wfs", "/layers/{layer}/features.gpkg")


def test_feature_routes_never_answer_5xx_nor_leak(vector_site: VectorSite) -> None:
    schema = schemathesis.openapi.from_url(f"{vector_site.url}/openapi.json")
    failures: list[tuple[str, str, int, str]] = []
    leaks: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[attr-defined]
    chosen = [op for op in operations if op.path.startswith(ROUTES)]
    assert len(chosen) == 11, [op.path for op in chosen]
    calls = 0
    for operation in chosen:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            nonlocal calls
            variants = [dict(case.path_parameters or {})]
            for real in (BUILDINGS, FOOTPRINTS, HOT_SPOTS):
                names = {"collectionId": real, "layer": real}
                variants.append({k: names.get(k, v) for k, v in (case.path_parameters or {}).items()})
            for parameters in variants:
                case.path_parameters = parameters
                for headers in ({}, {"Authorization": f"Bearer {GIS}"}):
                    response = case.call(base_url=vector_site.url, headers=headers, timeout=60)
                    calls += 1
                    if response.status_code >= 500:
                        failures.append(
                            (
                                case.method,
                                case.formatted_path,
                                response.status_code,
                                response.content[:300].decode(errors="replace"),
                            )
                        )
                    if (
                        not headers
                        and HOT_SPOTS not in case.formatted_path
                        and HOT_SPOTS.encode() in response.content
                    ):
                        leaks.append(f"{case.method} {case.formatted_path}")

        run()
    assert calls > 400
    assert failures == []
    assert leaks == []
