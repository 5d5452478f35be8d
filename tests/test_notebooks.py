"""The GIS team's notebooks run top to bottom in a clean environment (nbclient, the venv's kernel).

Clean as a GIS colleague would start them: from the notebooks folder, with no DRONEGIS_* or
PYTHONPATH variable set. 02 and 03 run on sample flights they generate (flights.sample); 01 and
04 find the public test data beside the repository by themselves.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="session")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a 'python3' kernel spec that runs this interpreter (the venv's python)."""
    root = tmp_path_factory.mktemp("kernels")
    (root / "python3").mkdir()
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (dronegis venv)",
        "language": "python",
    }
    (root / "python3" / "kernel.json").write_text(json.dumps(spec))
    return root


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, kernels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    for name in [n for n in os.environ if n.startswith("DRONEGIS_")] + ["PYTHONPATH"]:
        monkeypatch.delenv(name, raising=False)  # the kernel inherits this clean environment
    notebook = nbformat.read(path, as_version=4)
    manager = KernelManager(
        kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)])
    )
    client = NotebookClient(
        notebook,
        km=manager,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    errors = [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert not errors
    assert any(c.get("outputs") for c in notebook.cells if c.cell_type == "code")


def test_no_notebook_needs_an_environment_variable() -> None:
    for path in NOTEBOOKS:
        text = path.read_text(encoding="utf-8")
        assert "os.environ" not in text and "DRONEGIS_TEST_DATA" not in text, path.name


def test_the_notebooks_are_there() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_qa_precision.ipynb",
        "02_freshness.ipynb",
        "03_thermal_flight.ipynb",
        "04_nature_change.ipynb",
    ]
