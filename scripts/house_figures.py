"""Module sizes and parameter counts per floor (and per pipeline room), from ``tests/house.py``.

``.venv/bin/python scripts/house_figures.py [package]`` prints, for each top-level package (or the
rooms of ``package``), the number of modules, the largest module, the modules over 400 lines, the
longest function and the functions over 60 code lines, the longest parameter list and the functions
over 8 parameters, and the module-level import circles; nothing of the project is imported.
"""

from __future__ import annotations

import sys
from collections import defaultdict

from tests import house


def _group(rel: str, package: str | None) -> str | None:
    parts = rel.split("/")
    if package is None:
        return parts[0]
    if parts[0] != package:
        return None
    return "/".join(parts[:2]) if len(parts) > 2 else f"{package}/ (flat)"


def figures(package: str | None = None) -> list[str]:
    """One line per group: modules, largest module, > 400, longest function, > 60, most parameters, > 8."""
    modules: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for module in house.modules().values():
        group = _group(module.rel, package)
        if group is not None:
            modules[group].append((len(module.lines), module.rel))
    lines: dict[str, list[tuple[int, str]]] = defaultdict(list)
    params: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for function in house.functions():
        group = _group(function.module.rel, package)
        if group is not None:
            lines[group].append((house.code_lines(function), function.key))
            params[group].append((house.parameters(function), function.key))
    head = f"{'group':32} {'modules':>7} {'max lines':>9} {'>400':>4}"
    out = [f"{head} {'max fn':>6} {'>60':>4} {'max par':>7} {'>8':>3}"]
    for group in sorted(modules):
        size = max(modules[group])
        fn = max(lines[group], default=(0, ""))
        par = max(params[group], default=(0, ""))
        out.append(
            f"{group:32} {len(modules[group]):7d} {size[0]:9d} "
            f"{sum(n > house.MAX_MODULE_LINES for n, _ in modules[group]):4d} {fn[0]:6d} "
            f"{sum(n > house.MAX_FUNCTION_CODE_LINES for n, _ in lines[group]):4d} {par[0]:7d} "
            f"{sum(n > house.MAX_PARAMETERS for n, _ in params[group]):3d}"
        )
    circles = sorted(c for c in house.circles(hidden=False) if package is None or c.startswith(package))
    out.append(f"module-level import circles: {len(circles)} {circles}")
    circles = sorted(c for c in house.circles(hidden=True) if package is None or c.startswith(package))
    out.append(f"import circles, hidden imports counted: {len(circles)} {circles}")
    return out


if __name__ == "__main__":
    print("\n".join(figures(sys.argv[1] if len(sys.argv) > 1 else None)))
