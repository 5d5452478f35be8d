"""Rewrite imports and dotted references after modules moved into the pipeline's rooms (issue 11).

``.venv/bin/python scripts/move_imports.py BATCH [PATH ...]`` applies the moves of ``BATCH`` (see
:data:`MOVES`) to every Python file, notebook and Markdown file under PATH (default: the whole
repository, virtual environments and benchmark work folders left out):

- ``from old import a, b as c`` becomes one ``from new import ...`` per module the names now live in;
- ``from pkg import old_module as m`` becomes ``from new_pkg import new_module as m``;
- ``import old`` becomes ``import new``;
- dotted references (``pipeline.old.name`` in code, strings, docstrings and Markdown) follow.

A move maps each name of an old module to the module that holds it now, ``"*"`` naming the module
that took all the others. Run it once per batch, right after the
``git mv`` of that batch; code already written against the new paths is left alone (a module that
became a package of the same name is rewritten only where a name of the old module follows it).
Other engineers can run a batch on their uncommitted files the same way.
"""

from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SKIP = {".venv", "node_modules", "_work", ".git", "__pycache__"}
THIS = Path(__file__).resolve()

Move = dict[str, str]
MOVES: dict[str, dict[str, Move]] = {
    "gcp": {
        "pipeline.gcp": {
            "*": "pipeline.gcp.fit",
            "warp_with_fit": "pipeline.gcp.warp",
            "WarpResult": "pipeline.gcp.warp",
            "GcpFit": "pipeline.models",
            "PointResidual": "pipeline.models",
            "Method": "pipeline.models.fit",
        },
        "pipeline.gcp_warp": {"*": "pipeline.gcp.warp"},
        "pipeline.gcp_tasks": {"*": "pipeline.gcp.tasks"},
        "pipeline.process_gcp": {"*": "pipeline.gcp.stage"},
    },
    "thermal": {
        "pipeline.thermal": {
            "*": "pipeline.thermal.radiometry",
            "ThermalOverrides": "pipeline.models",
            "KELVIN": "pipeline.models.thermal",
            "OVERRIDABLE": "pipeline.models.thermal",
        },
        "pipeline.thermal_dji": {"*": "pipeline.thermal.dji"},
        "pipeline.thermal_tiff": {"*": "pipeline.thermal.tiff"},
        "pipeline.thermal_frames": {"*": "pipeline.thermal.frames"},
        "pipeline.thermal_raster": {
            "*": "pipeline.thermal.convert",
            "thermal_mosaic": "pipeline.mosaic.build",
            "BLEND": "pipeline.mosaic.build",
            "MAX_MOSAIC_SIDE_PX": "pipeline.mosaic.build",
            "MOSAIC_BYTES_PER_PX": "pipeline.mosaic.build",
            "MOSAIC_BLOCK_PX": "pipeline.mosaic.build",
            "MOSAIC_BATCH_WINDOWS": "pipeline.mosaic.build",
            "NODATA": "pipeline.thermal.frames",
            "TAG_PREFIX": "pipeline.thermal.frames",
            "frame_tags": "pipeline.thermal.frames",
            "write_thermal_frame": "pipeline.thermal.frames",
            "TIFF_PROFILES": "pipeline.thermal.tiff",
            "CelsiusFrame": "pipeline.thermal.tiff",
            "read_radiometric_tiff": "pipeline.thermal.tiff",
        },
        "pipeline.thermal_stage": {
            "*": "pipeline.thermal.stage",
            "used_parameters": "pipeline.thermal.parameters",
            "product_thermal": "pipeline.thermal.parameters",
            "merge_thermal": "pipeline.thermal.parameters",
        },
        "pipeline.mosaic_tasks": {"*": "pipeline.mosaic.tasks"},
    },
    "frames": {
        "pipeline.frames": {
            "*": "pipeline.frames.render",
            "DemSampler": "pipeline.frames.dem",
            "frame_record": "pipeline.frames.locate",
            "frame_view": "pipeline.frames.locate",
            "locate_frame": "pipeline.frames.locate",
            "is_thermal": "pipeline.frames.locate",
            "NADIR_TOLERANCE_DEG": "pipeline.frames.locate",
            "write_frame_cog": "pipeline.frames.write",
            "write_thumbnail": "pipeline.frames.write",
            "THUMBNAIL_PX": "pipeline.frames.write",
            "write_layers": "pipeline.layers.gpkg",
            "FrameRecord": "pipeline.models",
        },
        "pipeline.frame_tasks": {"*": "pipeline.frames.tasks"},
        "pipeline.process_frames": {"*": "pipeline.frames.stage", "layers_stage": "pipeline.layers.stage"},
    },
    "rasters": {
        "pipeline.cog": {"*": "pipeline.rasters.cog"},
        "pipeline.rasters": {
            "*": "pipeline.rasters.inputs",
            "OUTSIDE_AREA": "pipeline.rasters.area",
            "AREA_MARGIN_DEG": "pipeline.rasters.area",
            "outside_target_area": "pipeline.rasters.area",
            "crs_name": "pipeline.rasters.area",
        },
        "pipeline.operations": {"*": "pipeline.rasters.operations"},
        "pipeline.orthophoto": {
            "*": "pipeline.rasters.reproject",
            "target_grid": "pipeline.rasters.warp",
            "STRIP_ROWS": "pipeline.rasters.warp",
            "WARP_MEM_MB": "pipeline.rasters.warp",
            "WARP_WORKERS": "pipeline.rasters.warp",
            "WARP_THREADS": "pipeline.rasters.warp",
        },
    },
    "frontdoor": {
        "pipeline.jobs": {"*": "dronegis.jobs"},
        "pipeline.catalog": {"*": "dronegis.catalog"},
    },
}


@functools.cache
def old_names(module: str) -> frozenset[str]:
    """Top-level names the old module defined, read from its file at HEAD (before the move)."""
    path = module.replace(".", "/")
    for candidate in (f"{path}.py", f"{path}/__init__.py"):
        shown = subprocess.run(
            ["git", "-C", str(REPO), "show", f"HEAD:{candidate}"], capture_output=True, text=True, check=False
        )
        if shown.returncode == 0:
            return _defined(ast.parse(shown.stdout))
    return frozenset()


def _defined(tree: ast.Module) -> frozenset[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return frozenset(names)


def target(moves: dict[str, Move], module: str, name: str | None) -> str | None:
    """The module that holds ``name`` of the old ``module`` now (None: not moved, or not a name of it).

    A module that became a package of its own name (``pipeline.gcp`` -> ``pipeline.gcp.fit``) moves
    only the names it defined; any other name after it (a new submodule) stays.
    """
    move = moves.get(module)
    if move is None:
        return None
    default = move["*"]
    if name is None:
        return None if default.startswith(module + ".") else default
    if name in move:
        return move[name]
    if default.startswith(module + ".") and name not in old_names(module):
        return None
    return default


def _import_lines(indent: str, module: str, names: list[str]) -> str:
    one = f"{indent}from {module} import {', '.join(names)}"
    if len(one) <= 110:
        return one
    inner = "".join(f"{indent}    {n},\n" for n in names)
    return f"{indent}from {module} import (\n{inner}{indent})"


def _alias(alias: ast.alias) -> str:
    return f"{alias.name} as {alias.asname}" if alias.asname else alias.name


def _rewrite_from(moves: dict[str, Move], node: ast.ImportFrom, indent: str) -> str | None:
    module = node.module or ""
    if node.level:
        return None
    groups: dict[str, list[str]] = {}
    changed = False
    for alias in node.names:
        whole = f"{module}.{alias.name}"
        renamed = target(moves, whole, None)
        if renamed is not None and renamed != whole:  # from pkg import old_module (as m)
            parent, _, leaf = renamed.rpartition(".")
            bound = alias.asname or alias.name
            groups.setdefault(parent, []).append(leaf if leaf == bound else f"{leaf} as {bound}")
            changed = True
            continue
        new = target(moves, module, alias.name)
        changed = changed or (new is not None and new != module)
        groups.setdefault(new or module, []).append(_alias(alias))
    if not changed:
        return None
    return "\n".join(_import_lines(indent, m, names) for m, names in groups.items())


def _rewrite_import(moves: dict[str, Move], node: ast.Import, indent: str) -> str | None:
    parts, changed = [], False
    for alias in node.names:
        new = target(moves, alias.name, None)
        if new is not None and alias.asname is not None:
            changed = True
            parts.append(f"{new} as {alias.asname}")
        elif new is not None:
            changed = True
            parts.append(new)
        else:
            parts.append(_alias(alias))
    return f"{indent}import {', '.join(parts)}" if changed else None


def rewrite_imports(moves: dict[str, Move], text: str) -> str:
    """``text`` (Python source) with its import statements of moved modules rewritten."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        first = lines[node.lineno - 1]
        indent = first[: len(first) - len(first.lstrip())]
        if first.strip().startswith(("from ", "import ")) is False:
            continue  # an import sharing a line with other code: left to the dotted rewrite
        new = (
            _rewrite_from(moves, node, indent)
            if isinstance(node, ast.ImportFrom)
            else _rewrite_import(moves, node, indent)
        )
        if new is not None:
            end = node.end_lineno or node.lineno
            tail = lines[end - 1][len(lines[end - 1].rstrip("\n")) :]
            comment = re.search(r"#.*$", lines[end - 1].rstrip("\n"))
            suffix = f"  {comment.group(0)}" if comment and node.lineno == end else ""
            edits.append((node.lineno - 1, end, new + suffix + (tail or "\n")))
    for start, end, new in sorted(edits, reverse=True):
        lines[start:end] = [new]
    return "".join(lines)


def rewrite_dotted(moves: dict[str, Move], text: str) -> str:
    """Dotted references to moved modules (code, strings, docstrings, Markdown), in one pass."""
    olds = sorted(moves, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(re.escape(o) for o in olds) + r")\b(?:\.([A-Za-z_]\w*))?")

    def swap(match: re.Match[str]) -> str:
        old, name = match.group(1), match.group(2)
        if name is not None:
            new = target(moves, old, name)
            if new is not None:
                return f"{new}.{name}"
            renamed = target(moves, old, None)
            return f"{renamed}.{name}" if renamed is not None else match.group(0)
        renamed = target(moves, old, None)
        return renamed if renamed is not None else match.group(0)

    return pattern.sub(swap, text)


def files(roots: list[Path]) -> Iterator[Path]:
    """Python, notebook and Markdown files under ``roots``."""
    for root in roots:
        candidates = [root] if root.is_file() else root.rglob("*")
        for path in candidates:
            if path.suffix in (".py", ".ipynb", ".md") and not SKIP & set(path.parts) and path != THIS:
                yield path


def apply(batch: str, roots: list[Path]) -> list[Path]:
    """Apply one batch of moves; the files changed."""
    moves = MOVES[batch]
    changed = []
    for path in files(roots):
        text = path.read_text(encoding="utf-8")
        new = rewrite_imports(moves, text) if path.suffix == ".py" else text
        new = rewrite_dotted(moves, new)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


if __name__ == "__main__":
    name, *paths = sys.argv[1:]
    for path in apply(name, [Path(p) for p in paths] or [REPO]):
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
