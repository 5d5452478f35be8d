"""The message catalogue: every message in Danish and English with the same fields; lookup and formats."""

from __future__ import annotations

import string
from datetime import date
from pathlib import Path

import pytest

from core.errors import CatalogueError
from core.i18n import LANGS, both, catalogue, day, lang_of, length, number, section, text


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_message_has_danish_and_english_with_the_same_fields() -> None:
    messages = catalogue()
    assert len(messages) > 250
    for key, entry in messages.items():
        assert set(entry) == set(LANGS), key
        assert _fields(entry["da"]) == _fields(entry["en"]), (
            key
        )  # a field missing in one language would crash


def test_danish_is_the_default_and_english_is_asked_for() -> None:
    assert lang_of(None) == lang_of("") == lang_of("da") == lang_of("de") == "da"
    assert lang_of("en") == lang_of("EN-gb") == lang_of("english") == "en"
    assert text("viewer.layers", "da") == "Lag" and text("viewer.layers", "en") == "Layers"
    assert both("accuracy.measured", h95="14 cm", n=18) == {
        "da": "±14 cm (95 %), målt mod 18 kontrolpunkter",
        "en": "±14 cm (95 %), measured against 18 check points",
    }
    assert section("page.status", "da")["done"] == "færdig"


def test_unknown_keys_and_missing_fields_name_the_key() -> None:
    with pytest.raises(CatalogueError, match="viewer.nope"):
        text("viewer.nope", "da")
    with pytest.raises(CatalogueError, match="accuracy.measured"):
        text("accuracy.measured", "en", h95="1 cm")  # n missing


def test_a_catalogue_entry_without_english_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "messages.toml"
    bad.write_text('[viewer]\nlayers = { da = "Lag" }\n', encoding="utf-8")
    with pytest.raises(CatalogueError, match="viewer.layers"):
        catalogue(bad)


def test_dates_and_numbers_follow_the_language() -> None:
    assert day(date(2026, 12, 3), "da") == "3. dec. 2026"
    assert day(date(2026, 12, 3), "en") == "3 Dec 2026"
    assert number(1234.56, "da") == "1.234,6" and number(1234.56, "en") == "1,234.6"
    assert length(0.1400, "da") == "14 cm" and length(0.0031, "da") == "0,3 cm"
    assert length(1.25, "en") == "1.2 m" and length(2400.0, "da") == "2,4 km"
