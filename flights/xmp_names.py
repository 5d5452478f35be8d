"""Expat's namespace processing of XMP names, done in Python for a parser made without it.

Expat's namespace mode (``ParserCreate(None, "}")``) costs about 6 of the 14 µs it takes
to parse a DJI packet (SipHash-checked attribute names); the names of a camera's packets
repeat from frame to frame, so resolving them here, remembered per set of names and
bindings, is cheaper. :func:`flights.xmp.parse_xmp` parses a packet without namespace
processing and hands each start tag to :class:`Namespaces`, which gives the names expat's
namespace mode would give (``uri}local``; unprefixed attributes and elements outside a
default namespace keep their plain name; ``xml:`` is bound to its namespace).

Whatever this module does not resolve exactly as expat would — a name that is not an
ASCII ``prefix:local`` or ``local`` name, an unbound prefix, a declaration expat refuses
(an empty prefixed URI, a reserved prefix or URI, the separator in a URI), two attributes
with the same expanded name, a processing instruction target that is not such a name —
raises :class:`NotPlain`, and the packet is parsed again in expat's namespace mode, which
decides (and raises the error expat raises).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

XML_NS = "http://www.w3.org/XML/1998/namespace"
XMLNS_NS = "http://www.w3.org/2000/xmlns/"
_NAME = re.compile(r"[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?\Z", re.ASCII)
_PREFIX = re.compile(r"[A-Za-z_][\w.\-]*\Z", re.ASCII)

Keyed = tuple[tuple[int, str], ...]
"""For each attribute that has a key: the index of its value in expat's attribute list, and the key."""


class Scope:
    """Bindings in force (prefix -> URI; ``""`` the default namespace), hashed by identity.

    One object per set of bindings while :func:`_scope` remembers it, so that the plans in
    ``_PLANS`` can be looked up by it cheaply.
    """

    __slots__ = ("bindings",)

    def __init__(self, bindings: dict[str, str]) -> None:
        self.bindings = bindings


class _Plan:
    """What a start tag's names resolve to: where its declarations are, and per declared URIs
    the new scope, the expanded element name and the keyed attributes."""

    __slots__ = ("declared", "by_uris")

    def __init__(self, declared: tuple[tuple[int, str], ...]) -> None:
        self.declared = declared
        self.by_uris: dict[tuple[str, ...], tuple[Scope, str, Keyed]] = {}


class NotPlain(Exception):
    """A name or declaration that only expat's namespace mode can judge: parse again in it."""


class Namespaces:
    """The namespace scopes of one parse: call :meth:`start` and :meth:`end` from expat's handlers.

    Args:
        key: Turns an expanded attribute name (``uri}local``) into a property key, or None.
    """

    def __init__(self, key: Callable[[str], str | None]) -> None:
        self.key = key
        self.scopes: list[Scope] = [_ROOT]

    def start(self, name: str, attrs: list[str]) -> tuple[str, Keyed]:
        """The element's expanded name and its keyed attributes (``attrs``: expat's ordered list).

        Raises:
            NotPlain: The element needs expat's namespace mode (see the module docstring).
        """
        scope = self.scopes[-1]
        names = tuple(attrs[::2])
        plan = _PLANS.get((scope, name, names, self.key))
        if plan is None:
            plan = _new_plan(scope, name, names, self.key)
        uris = tuple([attrs[i + 1] for i, _ in plan.declared]) if plan.declared else ()
        resolved = plan.by_uris.get(uris)
        if resolved is None:
            resolved = _resolve_plan(plan, scope, name, names, uris, self.key)
        self.scopes.append(resolved[0])
        return resolved[1], resolved[2]

    def end(self) -> None:
        """The element closes: its declarations go out of scope."""
        self.scopes.pop()


def check_target(target: str, _data: str) -> None:
    """A processing instruction: its target must be a name without a colon.

    Raises:
        NotPlain: It is not (expat's namespace mode tokenises it differently).
    """
    if not _PREFIX.match(target):
        raise NotPlain(target)


#: Plans by (scope, element name, attribute names, key function); emptied when it grows past
#: _MAX_PLANS (a camera's packets need a handful). Lookups, not parses: a plan holds no values.
_PLANS: dict[tuple[Scope, str, tuple[str, ...], Callable[[str], str | None]], _Plan] = {}
_MAX_PLANS = 256
_MAX_URI_SETS = 16


def _new_plan(scope: Scope, name: str, names: tuple[str, ...], key: Callable[[str], str | None]) -> _Plan:
    """The plan of a start tag not seen in this scope yet (its declarations found, nothing resolved)."""
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    declared = tuple((2 * i, n[6:]) for i, n in enumerate(names) if n == "xmlns" or n.startswith("xmlns:"))
    plan = _PLANS[scope, name, names, key] = _Plan(declared)
    return plan


def _resolve_plan(
    plan: _Plan,
    scope: Scope,
    name: str,
    names: tuple[str, ...],
    uris: tuple[str, ...],
    key: Callable[[str], str | None],
) -> tuple[Scope, str, Keyed]:
    """Resolve a start tag for one set of declared URIs, and remember it in ``plan``.

    Raises:
        NotPlain: A declaration, a name or an attribute pair expat's namespace mode judges itself.
    """
    inner = _bind(scope, tuple(zip((p for _, p in plan.declared), uris, strict=True))) if uris else scope
    bindings = inner.bindings
    element = _expand(name, bindings, bindings.get(""))
    seen: set[str] = set()
    keyed: list[tuple[int, str]] = []
    for i, attribute in enumerate(names):
        if attribute == "xmlns" or attribute.startswith("xmlns:"):
            continue
        expanded = _expand(attribute, bindings, None)
        if expanded in seen:
            raise NotPlain(expanded)
        seen.add(expanded)
        k = key(expanded)
        if k is not None:
            keyed.append((2 * i + 1, k))
    if len(plan.by_uris) >= _MAX_URI_SETS:
        plan.by_uris.clear()
    resolved = plan.by_uris[uris] = (inner, element, tuple(keyed))
    return resolved


def _bind(scope: Scope, declared: tuple[tuple[str, str], ...]) -> Scope:
    """The scope with ``declared`` (prefix, URI) bindings added.

    Raises:
        NotPlain: A declaration expat's namespace mode refuses or that is unusual.
    """
    bindings = dict(scope.bindings)
    for prefix, uri in declared:
        if uri in (XML_NS, XMLNS_NS) or "}" in uri:
            raise NotPlain(uri)
        if prefix and (not uri or not _PREFIX.match(prefix) or prefix[:3].lower() == "xml"):
            raise NotPlain(prefix)
        bindings[prefix] = uri
    return _scope(tuple(sorted(bindings.items())))


@lru_cache(maxsize=128)
def _scope(items: tuple[tuple[str, str], ...]) -> Scope:
    """One Scope object per set of bindings (while remembered)."""
    return Scope(dict(items))


_ROOT = _scope((("xml", XML_NS),))


def _expand(name: str, bindings: dict[str, str], default: str | None) -> str:
    """``uri}local`` of a prefixed name; a plain name in ``default`` (elements only) or as it is."""
    if not _NAME.match(name):
        raise NotPlain(name)
    prefix, colon, local = name.partition(":")
    if not colon:
        return f"{default}}}{name}" if default else name
    uri = bindings.get(prefix)
    if uri is None or prefix == "xmlns":
        raise NotPlain(name)
    return f"{uri}}}{local}"
