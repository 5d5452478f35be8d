"""HTML pages in Danish or English: the Jinja2 templates of ``dronegis/api/templates/`` and the language.

A page is Danish unless ``?lang=en`` asks for English (:func:`core.i18n.lang_of`; the
browser's ``Accept-Language`` is not consulted, so a case handler on an English-language
PC still reads Danish by default). Every page sets ``<html lang>`` and links to itself in
the other language, keeping its other query parameters (a token, a layer, an extent).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from core.i18n import Lang, lang_of, text


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The template environment (autoescaped HTML; ``t(key, **params)`` is set per page)."""
    return Environment(
        loader=PackageLoader("dronegis.api", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def request_lang(request: Request) -> Lang:
    """The page language: ``?lang=en`` → English, otherwise Danish."""
    return lang_of(request.query_params.get("lang"))


def url_in(request: Request, lang: Lang, **replace: str | None) -> str:
    """This page's path and query with ``lang`` (and ``replace``) set; ``None`` removes a parameter."""
    params = {k: v for k, v in request.query_params.items() if k != "lang"}
    for key, value in replace.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    params["lang"] = lang
    return f"{request.url.path}?{urlencode(params)}"


def render(request: Request, name: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """``name`` rendered in the request's language, with ``t()``, ``lang`` and the other-language link."""
    lang = request_lang(request)
    other: Lang = "en" if lang == "da" else "da"

    def t(key: str, **params: object) -> str:
        return text(key, lang, **params)

    page = (
        environment()
        .get_template(name)
        .render(lang=lang, other_lang=other, other_url=url_in(request, other), t=t, **context)
    )
    return HTMLResponse(page, status_code=status_code)
