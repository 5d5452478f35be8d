"""The floors point down: flights < pipeline < qa < webgis_export < dronegis (DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FLOORS = ["core", "flights", "pipeline", "qa", "webgis_export", "dronegis"]


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(FLOORS)


@pytest.mark.parametrize("package", FLOORS[:-1])
def test_no_package_imports_a_higher_floor(package: str) -> None:
    higher = set(FLOORS[FLOORS.index(package) + 1 :])
    offenders = {
        str(path.relative_to(REPO)): sorted(_imported_packages(path) & higher)
        for path in sorted((REPO / package).rglob("*.py"))
        if _imported_packages(path) & higher
    }
    assert offenders == {}, f"{package} imports higher floors: {offenders}"


def test_library_code_never_refers_to_shared_data() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for package in FLOORS
        for path in (REPO / package).rglob("*.py")
        if any(marker in path.read_text(encoding="utf-8") for marker in ("../shared", "/work/shared"))
    ]
    assert offenders == []
