"""The house audit: how the floors' modules import each other and how big they are.

Read by ``tests/test_layering.py`` (which holds the rules and the known offenders) and runnable on its
own for the figures: ``.venv/bin/python -m tests.house`` prints one count per rule and, with ``-v``,
every offender.

Everything here is read with :mod:`ast` from the source files; nothing of the project is imported.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FLOORS = ("core", "flights", "pipeline", "qa", "webgis_export", "dronegis")

MAX_MODULE_LINES = 400
MAX_FUNCTION_CODE_LINES = 60
MAX_PARAMETERS = 8
DYNAMIC_IMPORTS = frozenset({"__import__", "import_module"})


@dataclass(frozen=True)
class Module:
    """One source module of a floor: its dotted name, its file and its parsed tree."""

    name: str
    path: Path
    is_package: bool
    tree: ast.Module
    lines: tuple[str, ...]

    @property
    def rel(self) -> str:
        """The path relative to the repository, as offenders are listed."""
        return self.path.relative_to(REPO).as_posix()


@dataclass(frozen=True)
class ImportUse:
    """One import statement: where it is, what it names, and whether it runs at module level."""

    module: Module
    node: ast.Import | ast.ImportFrom
    top_level: bool
    type_checking: bool


@cache
def modules() -> dict[str, Module]:
    """Every module of every floor, by dotted name."""
    found: dict[str, Module] = {}
    for package in FLOORS:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text, filename=str(path))
            name = ".".join(parts)
            found[name] = Module(name, path, is_package, tree, tuple(text.splitlines()))
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk_imports(
    module: Module, body: list[ast.stmt], top_level: bool, type_checking: bool
) -> Iterator[ImportUse]:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield ImportUse(module, node, top_level, type_checking)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for child in ast.walk(node):
                if isinstance(child, ast.Import | ast.ImportFrom):
                    yield ImportUse(module, child, False, False)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _walk_imports(module, node.body, top_level, True)
            yield from _walk_imports(module, node.orelse, top_level, type_checking)
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, field, None)
                if isinstance(inner, list):
                    stmts = [
                        s for item in inner for s in ([item] if isinstance(item, ast.stmt) else item.body)
                    ]
                    yield from _walk_imports(module, stmts, top_level, type_checking)


def imports(module: Module) -> list[ImportUse]:
    """Every import statement of ``module``, module-level or not."""
    return list(_walk_imports(module, module.tree.body, True, False))


def _base(module: Module, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.name.split(".")
    keep = len(parts) - node.level + (1 if module.is_package else 0)
    prefix = ".".join(parts[:keep])
    return f"{prefix}.{node.module}" if node.module else prefix


def targets(use: ImportUse) -> list[tuple[str, str | None]]:
    """The project modules an import names, each with the imported attribute (None for ``import x``)."""
    known = modules()
    out: list[tuple[str, str | None]] = []
    if isinstance(use.node, ast.Import):
        for alias in use.node.names:
            if alias.name in known:
                out.append((alias.name, None))
        return out
    base = _base(use.module, use.node)
    if base not in known:
        return out
    for alias in use.node.names:
        sub = f"{base}.{alias.name}"
        out.append((sub, None) if sub in known else (base, alias.name))
    return out


def is_project(name: str) -> bool:
    """Whether a dotted module name belongs to one of the floors."""
    return name.split(".")[0] in FLOORS


def graph(hidden: bool = True) -> dict[str, set[str]]:
    """Import edges between project modules (``if TYPE_CHECKING`` imports included).

    Args:
        hidden: also the imports inside functions, so a circle dodged by hiding one import still
            counts; ``False`` gives the module-level graph only.
    """
    edges: dict[str, set[str]] = {name: set() for name in modules()}
    for name, module in modules().items():
        for use in imports(module):
            if use.top_level or hidden:
                edges[name].update(t for t, _ in targets(use) if t != name)
    return edges


def strongly_connected(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """Tarjan's strongly connected components of more than one module, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def circles(hidden: bool = True) -> set[str]:
    """Each import circle as its sorted members joined by `` <-> `` (see :func:`graph`)."""
    return {" <-> ".join(sorted(c)) for c in strongly_connected(graph(hidden))}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports() -> set[str]:
    """``module: target.name`` for every private name one module takes from another.

    Both ``from x import _y`` and ``x._y`` on an imported project module count.
    """
    found: set[str] = set()
    for name, module in modules().items():
        aliases: dict[str, str] = {}
        for use in imports(module):
            for target, attr in targets(use):
                if target == name:
                    continue
                if attr is not None and _private(attr):
                    found.add(f"{module.rel}: {target}.{attr}")
                if attr is None and _private(target.rsplit(".", 1)[-1]):
                    found.add(f"{module.rel}: {target}")
            for alias in use.node.names:
                bound = alias.asname or alias.name.split(".")[0]
                dotted = _dotted_target(use, alias)
                if dotted in modules():
                    aliases[bound] = dotted
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Attribute) and _private(node.attr):
                owner = _resolve(node.value, aliases)
                if owner is not None and owner != name:
                    found.add(f"{module.rel}: {owner}.{node.attr}")
    return found


def _dotted_target(use: ImportUse, alias: ast.alias) -> str:
    if isinstance(use.node, ast.Import):
        return alias.name if alias.asname else alias.name.split(".")[0]
    return f"{_base(use.module, use.node)}.{alias.name}"


def _resolve(node: ast.expr, aliases: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, aliases)
        if owner is not None and f"{owner}.{node.attr}" in modules():
            return f"{owner}.{node.attr}"
    return None


def hidden_statements() -> dict[str, str]:
    """``path:line`` → the module imported, for every import that does not run at module level.

    Dynamic imports (``__import__``, ``importlib.import_module``) count wherever they are, as
    ``__import__(...)``.
    """
    found: dict[str, str] = {}
    for module in modules().values():
        for use in imports(module):
            if use.top_level:
                continue
            names = (
                [a.name for a in use.node.names]
                if isinstance(use.node, ast.Import)
                else [_base(use.module, use.node) if use.node.level else use.node.module or ""]
            )
            for imported in names:
                found[f"{module.rel}:{use.node.lineno}"] = imported
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if called in DYNAMIC_IMPORTS:
                    found[f"{module.rel}:{node.lineno}"] = f"{called}(...)"
    return found


def hidden_imports() -> set[str]:
    """``path: module`` for every module some function of ``path`` imports (line numbers left out)."""
    return {f"{where.rsplit(':', 1)[0]}: {what}" for where, what in hidden_statements().items()}


def oversize_modules() -> dict[str, int]:
    """Modules over :data:`MAX_MODULE_LINES` lines, with their line counts."""
    return {m.rel: len(m.lines) for m in modules().values() if len(m.lines) > MAX_MODULE_LINES}


@dataclass(frozen=True)
class Function:
    """One function or method: its module, qualified name and tree."""

    module: Module
    qualname: str
    node: ast.FunctionDef | ast.AsyncFunctionDef

    @property
    def key(self) -> str:
        """``path::qualname``, as offenders are listed."""
        return f"{self.module.rel}::{self.qualname}"


def functions() -> Iterator[Function]:
    """Every function and method of every floor, nested ones included."""
    for module in modules().values():
        yield from functions_in(module, module.tree.body, "")


def functions_in(module: Module, body: list[ast.stmt], prefix: str) -> Iterator[Function]:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            qualname = f"{prefix}{node.name}"
            yield Function(module, qualname, node)
            yield from functions_in(module, node.body, f"{qualname}.")
        elif isinstance(node, ast.ClassDef):
            yield from functions_in(module, node.body, f"{prefix}{node.name}.")
        else:
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(node, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    yield from functions_in(module, inner, prefix)


def code_lines(function: Function) -> int:
    """Lines of code of a function: its span without blank lines, comments and docstrings."""
    node = function.node
    end = node.end_lineno or node.lineno
    numbers = set(range(node.lineno, end + 1))
    for inner in ast.walk(node):
        if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and inner.body:
            first = inner.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                numbers -= set(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    lines = function.module.lines
    return sum(1 for n in numbers if lines[n - 1].strip() and not lines[n - 1].strip().startswith("#"))


def parameters(function: Function) -> int:
    """Parameters of a function, ``self``/``cls`` left out, ``*args``/``**kwargs`` one each."""
    args = function.node.args
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    if names and names[0] in {"self", "cls"} and "." in function.qualname:
        names = names[1:]
    return len(names)


def long_functions() -> dict[str, int]:
    """Functions over :data:`MAX_FUNCTION_CODE_LINES` lines of code."""
    counts = {f.key: code_lines(f) for f in functions()}
    return {key: n for key, n in counts.items() if n > MAX_FUNCTION_CODE_LINES}


def long_parameter_lists() -> dict[str, int]:
    """Functions with more than :data:`MAX_PARAMETERS` parameters."""
    counts = {f.key: parameters(f) for f in functions()}
    return {key: n for key, n in counts.items() if n > MAX_PARAMETERS}


def command_config(function: Function) -> str | None:
    """The class a click command builds first from all its parameters, if it does.

    A click command (decorated ``@<group>.command(...)`` or ``@click.command(...)``) receives every
    option as a parameter; it is let off the parameter rule only when its first statement (after
    the docstring) is ``name = Model(...)`` using every parameter — the test checks that ``Model``
    is a frozen model.
    """
    node = function.node
    decorated = any(
        isinstance(d, ast.Call)
        and (
            (isinstance(d.func, ast.Attribute) and d.func.attr == "command")
            or (isinstance(d.func, ast.Name) and d.func.id == "command")
        )
        for d in node.decorator_list
    )
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if not decorated or not body or not isinstance(body[0], ast.Assign | ast.AnnAssign):
        return None
    value = body[0].value
    if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Name):
        return None
    used = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
    args = node.args
    params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    return value.func.id if params <= used else None


def error_classes() -> set[str]:
    """``path::Class`` for every class outside ``core/errors.py`` that subclasses the error tree.

    A base counts when it is a name imported from :mod:`core.errors` (or ``errors.X`` on that module).
    """
    found: set[str] = set()
    for name, module in modules().items():
        if name == "core.errors":
            continue
        tree_names: set[str] = set()
        module_aliases: set[str] = set()
        for use in imports(module):
            for alias in use.node.names:
                if isinstance(use.node, ast.ImportFrom) and _base(module, use.node) == "core.errors":
                    tree_names.add(alias.asname or alias.name)
                elif _dotted_target(use, alias) == "core.errors":
                    module_aliases.add(alias.asname or alias.name)
        for node in ast.walk(module.tree):
            if isinstance(node, ast.ClassDef) and any(
                (isinstance(b, ast.Name) and b.id in tree_names)
                or (
                    isinstance(b, ast.Attribute)
                    and isinstance(b.value, ast.Name)
                    and b.value.id in module_aliases
                )
                for b in node.bases
            ):
                found.add(f"{module.rel}::{node.name}")
    return found


def errors_imported_elsewhere() -> set[str]:
    """``path: module.Name`` for every name of :mod:`core.errors` imported from another module.

    Every floor takes the error tree from ``core.errors`` itself; no module passes it on.
    """
    tree = modules()["core.errors"].tree
    names = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    found: set[str] = set()
    for module in modules().values():
        for use in imports(module):
            if isinstance(use.node, ast.ImportFrom) and _base(module, use.node) != "core.errors":
                found.update(
                    f"{module.rel}: {_base(module, use.node)}.{alias.name}"
                    for alias in use.node.names
                    if alias.name in names
                )
    return found


def upward_imports() -> set[str]:
    """``module -> target`` for every import (at any depth) of a higher floor."""
    found: set[str] = set()
    for module in modules().values():
        floor = FLOORS.index(module.name.split(".")[0])
        for use in imports(module):
            for target, _ in targets(use):
                if FLOORS.index(target.split(".")[0]) > floor:
                    found.add(f"{module.rel} -> {target}")
    return found


def report(verbose: bool) -> str:
    """One line per rule with its count (and the offenders when ``verbose``)."""
    rules: dict[str, object] = {
        "import circles (module level)": circles(hidden=False),
        "import circles (hidden imports counted)": circles(),
        "private names imported across modules": private_imports(),
        "import statements hidden in functions (allowlisted ones included)": hidden_statements(),
        "  of which import a project module": {
            k: v for k, v in hidden_statements().items() if is_project(v) or v.startswith("__")
        },
        f"modules over {MAX_MODULE_LINES} lines": oversize_modules(),
        f"functions over {MAX_FUNCTION_CODE_LINES} code lines": long_functions(),
        f"functions over {MAX_PARAMETERS} parameters": long_parameter_lists(),
        "upward imports": upward_imports(),
        "error classes outside core/errors.py": error_classes(),
        "error classes imported from another module than core.errors": errors_imported_elsewhere(),
    }
    out: list[str] = []
    for title, found in rules.items():
        assert isinstance(found, set | dict)
        out.append(f"{len(found):5d}  {title}")
        if verbose:
            items = (
                sorted(f"{k} ({v})" for k, v in found.items()) if isinstance(found, dict) else sorted(found)
            )
            out.extend(f"         {item}" for item in items)
    return "\n".join(out)


if __name__ == "__main__":
    print(report("-v" in sys.argv[1:]))
