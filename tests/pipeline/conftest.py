"""Fixtures shared by the pipeline tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    """A real dask LocalCluster with separate worker processes, on 127.0.0.1 only."""
    distributed = pytest.importorskip("distributed")
    cl = distributed.LocalCluster(
        processes=True,
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # None still binds 8787 (a warning = error when it is taken)
    )
    try:
        yield cl
    finally:
        cl.close()
