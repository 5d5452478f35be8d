"""QGIS as a client of the test servers: Debian's ``python3-qgis`` run by the system Python, offscreen.

QGIS's bindings belong to ``/usr/bin/python3`` (not the project's venv), so
:func:`render_in_qgis` runs ``qgis_render.py`` in a subprocess with a clean environment
and a home of its own: QGIS keeps a network cache (capabilities included) under
``~/.cache``, and a document cached by an earlier run must not answer for this server.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).with_name("qgis_render.py")
VECTOR_SCRIPT = Path(__file__).with_name("qgis_vectors.py")


def qgis_env(home: Path) -> dict[str, str]:
    """A clean environment for QGIS: offscreen Qt, its own home, cache, config and runtime folders."""
    runtime = home / "runtime"
    runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_RUNTIME_DIR": str(runtime),
        "QT_QPA_PLATFORM": "offscreen",
    }


def require_qgis(home: Path) -> str:
    """QGIS's version; the test fails (not skips) without it, since scripts/setup.sh installs it."""
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "from qgis.core import Qgis; print(Qgis.QGIS_VERSION)"],
        env=qgis_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if probe.returncode != 0:
        pytest.fail(
            f"QGIS's Python bindings are missing for {SYSTEM_PYTHON} ({probe.stderr.strip()[-300:]}): "
            "scripts/setup.sh installs Debian's python3-qgis"
        )
    return probe.stdout.strip()


def render_in_qgis(jobs: list[dict[str, Any]], out: Path, home: Path) -> dict[str, dict[str, Any]]:
    """Load and render each job in one QGIS process; the results by job name (see qgis_render.py)."""
    request = {"out": str(out), "profile": str(home / "profile"), "jobs": jobs}
    done = subprocess.run(
        [SYSTEM_PYTHON, str(SCRIPT)],
        input=json.dumps(request),
        env=qgis_env(home),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"QGIS exited with {done.returncode}: {done.stderr[-3000:]}")
    answer = json.loads(done.stdout)
    return {result["name"]: result for result in answer["results"]}


def vectors_in_qgis(jobs: list[dict[str, Any]], home: Path) -> dict[str, dict[str, Any]]:
    """Load each vector job (OAPIF or WFS provider) in one QGIS process; results by name (qgis_vectors.py)."""
    request = {"profile": str(home / "profile"), "jobs": jobs}
    done = subprocess.run(
        [SYSTEM_PYTHON, str(VECTOR_SCRIPT)],
        input=json.dumps(request),
        env=qgis_env(home),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"QGIS exited with {done.returncode}: {done.stderr[-3000:]}")
    answer = json.loads(done.stdout)
    return {result["name"]: result for result in answer["results"]}
