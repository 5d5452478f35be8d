"""Package facades: ``from qa import run_qa`` works; importing a facade loads no heavy optional library."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

FACADES = ["core", "flights", "qa"]
# Imported lazily where they are needed (tests/test_layering.py LAZY_IMPORTS).
HEAVY = ["matplotlib", "geopandas", "pyogrio", "rio_cogeo", "distributed", "dask", "dji_thermal_cli"]


@pytest.mark.parametrize("package", FACADES)
def test_every_exported_name_is_there(package: str) -> None:
    module = importlib.import_module(package)
    exported = list(module.__all__)
    assert len(set(exported)) == len(exported)
    missing = [name for name in exported if not hasattr(module, name)]
    assert missing == []


def test_facades_load_no_heavy_optional_library() -> None:
    code = (
        "import json, sys; import core, flights, qa; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    answer = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(answer.stdout) == []


def test_a_deep_import_still_works_first() -> None:
    """Importing a module before its package's facade (the facade runs first) finds no circle."""
    code = "import qa.models, flights.models, core.errors; from qa import run_qa; from flights import Flight"
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
