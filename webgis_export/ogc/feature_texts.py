"""Words people read in the feature services, Danish first and English (``?lang=en``).

Every text comes from the project's message catalogue (``core/messages.toml``, tables
``features`` and ``kind``) through :mod:`core.i18n`.
"""

from __future__ import annotations

from core.i18n import Lang, has, section, text
from core.localtime import local_text
from webgis_export.vectors.models import VectorLayer

__all__ = ["Lang", "describe", "flown", "kind_name", "label", "labels"]


def label(key: str, lang: Lang, **params: object) -> str:
    """The feature services' text ``key`` in ``lang`` (its ``{fields}`` filled)."""
    return text(f"features.{key}", lang, **params)


def labels(lang: Lang) -> dict[str, str]:
    """Every feature-service text in ``lang`` (templates unfilled), for the HTML pages."""
    return {**section("features", lang), "other_lang": text("lang.switch", lang)}


def kind_name(kind: str, lang: Lang) -> str:
    """A product kind as people say it (``kind.other`` for a kind the catalogue does not list)."""
    return text(f"kind.{kind}" if has(f"kind.{kind}") else "kind.other", lang)


def flown(layer: VectorLayer, lang: Lang) -> str:
    """When the layer was flown, in Copenhagen time, or 'unknown'."""
    when = layer.capture_time
    return local_text(when) if when else label("unknown", lang)


def describe(layer: VectorLayer, lang: Lang) -> str:
    """One line about a collection: kind, flight, when flown, feature count, QA."""
    return label(
        "describe",
        lang,
        kind=kind_name(layer.kind.value, lang),
        flight=layer.flight,
        flown=flown(layer, lang),
        count=layer.feature_count,
        qa=layer.qa_status or label("not_run", lang),
    )
