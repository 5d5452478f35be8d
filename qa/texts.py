"""QA words for people, from the message catalogue (:mod:`core.i18n`): check titles and statuses.

A check's title is looked up by its id (``conditions.wind``), then by its family
(``precision`` for ``precision.<product>``); a check without an entry keeps the title it
was written with. Findings (``CheckResult.message``) are written by the checks themselves.
"""

from __future__ import annotations

from core.i18n import Lang, has, text


def check_title(check_id: str, fallback: str, lang: Lang) -> str:
    """The title of check ``check_id`` in ``lang`` (``fallback`` when the catalogue has none)."""
    family = check_id.split(".", 1)[0]
    for key in (f"qa.check.id.{check_id}", f"qa.check.{family}"):
        if has(key):
            return text(key, lang)
    return fallback


def check_status(status: str, lang: Lang) -> str:
    """One check's status in words: ``bestået``, ``advarsel``, ``ikke bestået``, ``ikke vurderet``."""
    key = f"qareport.state.{status}"
    return text(key, lang) if has(key) else status
