"""The synthetic volume site, built once per session."""

from __future__ import annotations

import pytest
from volume_site import Site, build_site


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A tilted plane with a cone, a pit and a frustum; the ground alone, also in EPSG:25833; the polygons."""
    return build_site(tmp_path_factory.mktemp("volume-site"))
