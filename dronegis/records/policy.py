"""The retention policy: a term per purpose and category (TOML, see ``retention.toml``)."""

from __future__ import annotations

import hashlib
import re
import tomllib
from datetime import datetime, timedelta
from pathlib import Path

from core.errors import RetentionPolicyError
from core.models import Frozen
from flights.models import Purpose

DEFAULT_POLICY = Path(__file__).with_name("retention.toml")
CATEGORIES = ("raw_frames", "raw_files", "quarantine", "products", "qa_reports")
TERM = re.compile(r"^(\d+)\s*([dwy])$")
DAYS = {"d": 1, "w": 7}


class Policy(Frozen):
    """Terms by purpose and category; ``default`` fills in what a purpose leaves out."""

    source: str
    sha256: str
    terms: dict[str, dict[str, str]]

    def term(self, purpose: str, category: str) -> str:
        """The term of ``category`` for flights flown for ``purpose`` (``forever`` when none is set)."""
        own = self.terms.get(purpose, {})
        return own.get(category) or self.terms.get("default", {}).get(category) or "forever"


def load_policy(path: Path | None) -> Policy:
    """Read and check a policy file (default: the shipped ``retention.toml``).

    Raises:
        RetentionPolicyError: unreadable TOML, an unknown purpose or category, a term that is no term.
    """
    source = path or DEFAULT_POLICY
    try:
        raw = source.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RetentionPolicyError(f"retention policy {source}: {exc}") from exc
    purposes = {p.value for p in Purpose} | {"default"}
    terms: dict[str, dict[str, str]] = {}
    for purpose, table in data.items():
        if purpose not in purposes or not isinstance(table, dict):
            raise RetentionPolicyError(
                f"retention policy {source}: [{purpose}] is not a purpose table "
                f"(known: {', '.join(sorted(purposes))})"
            )
        for category, term in table.items():
            if category not in CATEGORIES:
                raise RetentionPolicyError(
                    f"retention policy {source}: [{purpose}] {category} is no category "
                    f"({', '.join(CATEGORIES)})"
                )
            check_term(str(term), f"{source} [{purpose}] {category}")
        terms[purpose] = {str(k): str(v) for k, v in table.items()}
    return Policy(source=str(source), sha256=hashlib.sha256(raw).hexdigest(), terms=terms)


def check_term(term: str, where: str) -> None:
    """Raise unless ``term`` is ``<n>d``, ``<n>w``, ``<n>y``, ``layer`` or ``forever``."""
    if term not in ("layer", "forever") and not TERM.match(term):
        raise RetentionPolicyError(
            f"retention policy {where}: term {term!r} is not 90d, 12w, 5y, layer or forever"
        )


def term_end(start: datetime, term: str) -> datetime | None:
    """When a term that began at ``start`` ends (None for ``layer`` and ``forever``). Pure."""
    match = TERM.match(term)
    if match is None:
        return None
    count, unit = int(match.group(1)), match.group(2)
    if unit == "y":
        try:
            return start.replace(year=start.year + count)
        except ValueError:  # 29 February
            return start.replace(year=start.year + count, day=28)
    return start + timedelta(days=count * DAYS[unit])
