"""The house rules (docs/DESIGN.md, issue 11), read from the source with ``ast`` by ``tests/house.py``.

The floors point down: core < flights < pipeline < qa < webgis_export < dronegis. Beyond that: no import
circle (imports hidden in functions counted), no private name (``_x``) taken from another module, no
import inside a function (except the documented lazy imports below), no module over 400 lines, no
function over 60 lines of code, no function over 8 parameters (a frozen config model instead), and
every error class in ``core/errors.py``.

``.venv/bin/python -m tests.house -v`` prints the figures and every offender.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable

import pytest

from core.models import Frozen
from tests import house

# Imports that may stay inside functions: optional extras, and heavy libraries few calls need. The
# cost is what the import adds on top of numpy/rasterio/pyproj/shapely/pydantic (measured on the
# 2-core shared box: ``python -c "import rasterio, ...; t=perf_counter(); import X"``).
LAZY_IMPORTS: dict[str, str] = {
    "dji_thermal_cli": "optional extra dronegis[dji]; missing -> DecoderUnavailable",
    "distributed": "optional extra dronegis[dask], only for --scheduler",
    "pystac.validation": "needs jsonschema (pystac[validation]), not a dependency; only STAC validation",
    "jsonschema": "not a dependency (comes with the test extra); only STAC validation",
    "referencing": "comes with jsonschema; only STAC validation",
    "geopandas": "+0.5 s import; only when a vector file (AOI, polygons) is read",
    "pyogrio": "+0.6 s import; only when a vector file is read",
    "matplotlib": "+0.7 s import (matplotlib.figure); only when a plot or legend is drawn",
    "rio_cogeo": "+0.6 s import; only when a COG is written or validated",
    "scipy": "+0.4 s import (scipy.ndimage); only when a roof has warm cells to label (hot spots)",
}
# Dynamic imports (``__import__`` / ``importlib.import_module``) allowed, by file.
DYNAMIC_IMPORTS: dict[str, str] = {
    "dronegis/cli/main.py": "lazy command loading: `dronegis --help` imports no command module",
}

# Offenders in today's tree, to be fixed by their owners (issue 11). A new offender fails at once; an
# entry that no longer offends fails too, so the lists only shrink and stay exact. Owners:
# pipeline/ -- the pipeline rooms (House-A); webgis_export/ and dronegis/ -- the publication and
# front-door engineers (vector services, viewer, pages); flights/, qa/, core/ -- House-B.
KNOWN_OFFENDERS: dict[str, frozenset[str]] = {
    "circles": frozenset(
        {
        }
    ),
    "private_imports": frozenset(
        {
        }
    ),
    "hidden_imports": frozenset(
        {
        }
    ),
    "oversize_modules": frozenset(
        {
        }
    ),
    "long_functions": frozenset(
        {
            "webgis_export/publish.py::publish",
        }
    ),
    "long_parameter_lists": frozenset(
        {
            "webgis_export/publish.py::publish",
        }
    ),
    "error_classes": frozenset(
        {
            "webgis_export/ogc/exceptions.py::OgcError",
        }
    ),
}


def _lazy_allowed(offence: str) -> bool:
    path, imported = offence.split(": ")
    if imported.startswith("__import__") or imported.startswith("import_module"):
        return path in DYNAMIC_IMPORTS
    return any(imported == name or imported.startswith(f"{name}.") for name in LAZY_IMPORTS)


def _hidden() -> set[str]:
    return {offence for offence in house.hidden_imports() if not _lazy_allowed(offence)}


def _long_parameter_lists() -> set[str]:
    found = set(house.long_parameter_lists())
    for function in house.functions():
        model = house.command_config(function)
        if function.key in found and model is not None:
            module = importlib.import_module(function.module.name)
            built = getattr(module, model, None)
            if isinstance(built, type) and issubclass(built, Frozen):
                found.discard(function.key)
    return found


RULES: dict[str, Callable[[], set[str]]] = {
    "circles": house.circles,
    "private_imports": house.private_imports,
    "hidden_imports": _hidden,
    "oversize_modules": lambda: set(house.oversize_modules()),
    "long_functions": lambda: set(house.long_functions()),
    "long_parameter_lists": _long_parameter_lists,
    "error_classes": house.error_classes,
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_house_rule(rule: str) -> None:
    found = RULES[rule]()
    known = KNOWN_OFFENDERS[rule]
    assert sorted(found - known) == [], f"new {rule} (see tests/house.py for the rule)"
    assert sorted(known - found) == [], f"fixed: remove these from KNOWN_OFFENDERS[{rule!r}]"


def test_lazy_import_allowlist_is_used() -> None:
    lazily = {offence.split(": ")[1] for offence in house.hidden_imports()}
    unused = [name for name in LAZY_IMPORTS if not any(i == name or i.startswith(f"{name}.") for i in lazily)]
    dynamic = {offence.split(": ")[0] for offence in house.hidden_imports() if "(...)" in offence}
    assert unused == [] and set(DYNAMIC_IMPORTS) <= dynamic


def test_no_project_module_is_imported_lazily_by_allowlist() -> None:
    assert not any(house.is_project(name) for name in LAZY_IMPORTS)


SAMPLE = """from typing import TYPE_CHECKING

import json

if TYPE_CHECKING:
    from flights.models import Capture


class Reader:
    def read(self, a, b, *rest, c, **options):
        \"\"\"Docstring lines
        do not count.\"\"\"
        from flights import exif  # hidden

        # a comment

        return exif
"""


def test_the_audit_reads_imports_lines_and_parameters() -> None:
    tree = ast.parse(SAMPLE)
    module = house.Module(
        "flights.sample_module",
        house.REPO / "flights/sample_module.py",
        False,
        tree,
        tuple(SAMPLE.splitlines()),
    )
    uses = [(u.node.lineno, u.top_level, u.type_checking) for u in house.imports(module)]
    assert uses == [(1, True, False), (3, True, False), (6, True, True), (13, False, False)]
    (method,) = list(house.functions_in(module, tree.body, ""))
    assert method.qualname == "Reader.read"
    assert house.code_lines(method) == 3  # def, import, return
    assert house.parameters(method) == 5  # a, b, *rest, c, **options; self left out
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert house.strongly_connected(edges) == [frozenset({"a", "b", "c"})]
    assert house.strongly_connected({"a": {"b"}, "b": set()}) == []


def test_every_floor_takes_its_errors_from_core_errors() -> None:
    assert sorted(house.errors_imported_elsewhere()) == []


@pytest.mark.parametrize("package", house.FLOORS[:-1])
def test_no_package_imports_a_higher_floor(package: str) -> None:
    offenders = sorted(o for o in house.upward_imports() if o.startswith(f"{package}/"))
    assert offenders == [], f"{package} imports higher floors: {offenders}"


def test_library_code_never_refers_to_shared_data() -> None:
    offenders = [
        module.rel
        for module in house.modules().values()
        if any(marker in "\n".join(module.lines) for marker in ("../shared", "/work/shared"))
    ]
    assert offenders == []
