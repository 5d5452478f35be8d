"""The HTML of a building card and of the card index (Danish section first, then English)."""

from __future__ import annotations

import html

from pipeline.buildings.models import Building, BuildingsReport
from pipeline.buildings.texts import CLASS_MEANING, HOW_TO_READ, LABELS, RELIABILITY, Lang, reason_text

STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:1em auto;color:#222}"
    "table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}"
    ".cls{font-size:2em;font-weight:bold}.unreliable{color:#a00}img{max-width:100%}"
    "section{margin-bottom:2em;border-top:3px solid #b5513a;padding-top:.5em}"
)


def fmt(value: float | None, unit: str, lang: Lang, digits: int = 1) -> str:
    """A figure with its unit, Danish decimal comma in the Danish section; 'unknown' for None."""
    if value is None:
        return LABELS["unknown"][lang]
    text = f"{value:.{digits}f}"
    return f"{text.replace('.', ',') if lang == 'da' else text} {unit}".strip()


def figures_rows(b: Building, lang: Lang) -> list[tuple[str, str]]:
    """(label, value) rows of a building's figures."""
    s, L = b.stats, LABELS
    material = f"{b.material} ({b.emissivity})" if b.material else L["unknown"][lang]
    return [
        (L["mean"][lang], fmt(s.mean, "°C", lang, 2)),
        (L["median"][lang], fmt(s.median, "°C", lang, 2)),
        (L["p10"][lang], fmt(s.p10, "°C", lang, 2)),
        (L["p90"][lang], fmt(s.p90, "°C", lang, 2)),
        (L["max"][lang], fmt(s.max, "°C", lang, 2)),
        (L["std"][lang], fmt(s.std, "K", lang, 2)),
        (L["coverage"][lang], fmt(100 * s.coverage, "%", lang, 0)),
        (L["pixels"][lang], f"{s.valid_count} / {s.pixel_count}"),
        (L["excess_air"][lang], fmt(b.excess_air_k, "K", lang)),
        (L["excess_peers"][lang], fmt(b.excess_peers_k, "K", lang)),
        (L["peers"][lang], f"{b.peer_group or L['unknown'][lang]}, {fmt(b.reference_c, '°C', lang, 2)}"),
        (L["use"][lang], b.use_code or L["unknown"][lang]),
        (L["material"][lang], material),
    ]


def table(rows: list[tuple[str, str]]) -> str:
    """A two-column HTML table."""
    return (
        "<table>"
        + "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
        + "</table>"
    )


def spots_table(b: Building, lang: Lang) -> str:
    """The hot spots of a building as an HTML table."""
    L = LABELS
    if not b.hot_spots:
        return f"<p>{L['none'][lang]}</p>"
    titles = ("#", L["area"][lang], L["peak"][lang], L["mean_excess"][lang])
    head = "<tr>" + "".join(f"<th>{t}</th>" for t in titles) + "</tr>"
    rows = "".join(
        f"<tr><td>{h.number}</td><td>{fmt(h.area_m2, 'm²', lang, 2)}</td>"
        f"<td>{fmt(h.peak_c, '°C', lang, 2)}</td>"
        f"<td>{fmt(h.mean_excess_k, 'K', lang, 2)}</td></tr>"
        for h in b.hot_spots
    )
    return f"<table>{head}{rows}</table>"


def section(b: Building, report: BuildingsReport, images: dict[str, str], lang: Lang) -> str:
    """One language's section of a card."""
    L, config = LABELS, report.config
    flight, rule, score = config.flight, config.hot_spots, config.score
    verdict = RELIABILITY[b.reliability.value][lang]
    reasons = "; ".join(reason_text(r, lang) for r in b.reasons)
    cls = b.heat_class or "–"
    meaning = CLASS_MEANING[b.heat_class][lang] if b.heat_class else ""
    pictures = "".join(
        f"<figure><img src='{images[k]}' alt='{L[k][lang]}'><figcaption>{L[k][lang]}</figcaption></figure>"
        for k in ("rgb", "thermal", "histogram")
        if k in images
    )
    conditions = [
        (L["date"][lang], flight.date_flown.isoformat() if flight.date_flown else L["unknown"][lang]),
        (L["air"][lang], fmt(flight.air_temp_c, "°C", lang)),
        (L["wind"][lang], fmt(flight.wind_ms, "m/s", lang)),
    ]
    parameters = [
        (
            "hot spot",
            f"≥ {rule.min_excess_k:g} K, ≥ {rule.min_area_m2:g} m², {rule.connectivity}-connectivity",
        ),
        ("classes A–E", " / ".join(f"{v:g}" for v in score.class_limits_k) + " K"),
        ("thermal", (b.thermal or config.thermal).name),
        ("footprints", config.footprints.name),
    ]
    how = HOW_TO_READ[lang].format(
        min_peers=score.min_peers,
        limits=" / ".join(f"{v:g}" for v in score.class_limits_k),
        excess=f"{rule.min_excess_k:g}",
        area=f"{rule.min_area_m2:g}",
    )
    problems = "".join(f"<li>{html.escape(p.message)}</li>" for p in b.problems)
    return (
        f"<section lang='{lang}'><h1>{L['title'][lang]} {html.escape(b.id)}</h1>"
        f"<p><span class='cls'>{L['class'][lang]} {cls}</span> {html.escape(meaning)} — "
        f"{L['rank'][lang]} {b.rank or '–'} · {L['score'][lang]} {fmt(b.score_k, 'K', lang, 2)}</p>"
        f"<p class='{b.reliability.value}'>{L['reliability'][lang]}: {verdict}"
        f"{': ' + html.escape(reasons) if reasons else ''}</p>"
        f"{pictures}<h2>{L['figures'][lang]}</h2>{table(figures_rows(b, lang))}"
        f"<h2>{L['hot_spots'][lang]}</h2>{spots_table(b, lang)}"
        f"<h2>{L['conditions'][lang]}</h2>{table(conditions)}"
        f"<h2>{L['parameters'][lang]}</h2>{table(parameters)}"
        + (f"<h2>{L['problems'][lang]}</h2><ul>{problems}</ul>" if problems else "")
        + f"<h2>{L['how'][lang]}</h2><p>{html.escape(how)}</p></section>"
    )


def card_page(b: Building, report: BuildingsReport, images: dict[str, str]) -> str:
    """The whole card: Danish, then English."""
    body = section(b, report, images, "da") + section(b, report, images, "en")
    return (
        f"<!DOCTYPE html><html lang='da'><head><meta charset='utf-8'><title>{html.escape(b.id)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def index_page(report: BuildingsReport, cards: dict[str, str]) -> str:
    """All buildings by rank, linking their cards (headings in Danish / English)."""
    ordered = sorted(report.buildings, key=lambda b: (b.rank is None, b.rank or 0, b.index))
    rows = "".join(
        f"<tr><td>{b.rank or '–'}</td>"
        f"<td><a href='{cards.get(b.key, '').split('/')[-1]}'>{html.escape(b.id)}</a></td>"
        f"<td>{b.heat_class or '–'}</td><td>{fmt(b.score_k, 'K', 'da', 2)}</td>"
        f"<td>{RELIABILITY[b.reliability.value]['da']} / {RELIABILITY[b.reliability.value]['en']}</td></tr>"
        for b in ordered
    )
    titles = (
        "Placering / Rank",
        "Bygning / Building",
        "Klasse / Class",
        "Score",
        "Pålidelighed / Reliability",
    )
    head = "<tr>" + "".join(f"<th>{t}</th>" for t in titles) + "</tr>"
    return (
        "<!DOCTYPE html><html lang='da'><head><meta charset='utf-8'><title>Bygninger / Buildings</title>"
        f"<style>{STYLE}</style></head><body><h1>Bygninger efter varmetab / Buildings by heat loss</h1>"
        f"<table>{head}{rows}</table></body></html>"
    )
