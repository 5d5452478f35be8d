"""Collect checks into a ``QAReport``; write report.json and one self-contained report.html.

The HTML page holds everything inline (CSS, PNG plots as base64 data URIs): it opens
from a mail attachment or a file share without any network access. Plots are also
written as PNG files next to the report and listed in ``QAReport.plots``.

The page is in Danish (``report.html``); the service renders it again from report.json
in English on request (``render_html(..., lang="en")``). Headings, statuses, check
titles and labels come from the message catalogue (:mod:`core.i18n`, :mod:`qa.texts`);
each finding is shown as its check wrote it.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from core.atomic import atomic_write_bytes, atomic_write_text
from core.errors import QAError
from core.i18n import Lang, has, text
from core.localtime import local_text
from qa.conditions import Gate
from qa.models import QA_SCHEMA_VERSION, CheckResult, QAReport, overall_status
from qa.texts import check_status, check_title

PLOT_TITLES = {
    "footprints": "Footprints over the AOI and municipality",
    "error_vectors": "Check-point error vectors",
    "error_histogram": "Check-point error histogram",
    "overlap": "Overlap map",
    "thermal_histogram": "Thermal histogram",
    "freshness": "Freshness timeline",
}
_STATUS_COLOUR = {"pass": "#2e7d32", "warn": "#f9a825", "fail": "#c62828", "skip": "#757575"}


def build_report(
    flight: str,
    checks: Sequence[CheckResult],
    *,
    created: datetime,
    figures: Mapping[str, object] | None = None,
    plots: Mapping[str, str] | None = None,
    thermal_gate: Gate | None = None,
) -> QAReport:
    """A QAReport whose overall status is the worst check status."""
    g = thermal_gate or Gate(failed=False)
    return QAReport(
        flight=flight,
        created=created,
        status=overall_status([c.status for c in checks]),
        checks=tuple(checks),
        figures=dict(figures or {}),
        plots=dict(plots or {}),
        thermal_gate_failed=g.failed,
        thermal_gate_reason=g.reason,
        thermal_gate_override=g.override,
        thermal_publication_blocked=g.blocked,
    )


def report_json_schema() -> dict[str, object]:
    """The JSON Schema of report.json (``QAReport``, schema version ``QA_SCHEMA_VERSION``)."""
    schema = QAReport.model_json_schema()
    schema["$id"] = f"urn:dronegis:qa-report:{QA_SCHEMA_VERSION}"
    return schema


def read_report(path: Path) -> QAReport:
    """Load a report.json.

    Raises:
        QAError: when the file is missing or does not match the schema.
    """
    try:
        return QAReport.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise QAError(f"QA report {path}: {exc}") from exc


def _figure_text(value: object, depth: int = 0) -> str:
    """A figure as people read it: numbers rounded, lists and tables spelled out, never a Python repr."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "–"
    if isinstance(value, (list, tuple)):
        if len(value) > 8 or depth > 1:
            return f"{len(value)} items"
        return ", ".join(_figure_text(v, depth + 1) for v in value) or "–"
    if isinstance(value, dict):
        if len(value) > 4 or depth > 1:
            return f"{len(value)} entries"
        return "; ".join(f"{html.escape(str(k))}: {_figure_text(v, depth + 1)}" for k, v in value.items())
    return html.escape(str(value))


def _check_row(check: CheckResult, lang: Lang = "da") -> str:
    simple = {k: v for k, v in check.figures.items() if not isinstance(v, dict)}
    figures = "; ".join(f"{html.escape(k)}={_figure_text(v)}" for k, v in list(simple.items())[:10])
    colour = _STATUS_COLOUR[check.status]
    title, state = check_title(check.id, check.title, lang), check_status(check.status, lang)
    written_in = " lang=en" if lang == "da" else ""  # findings are written by the checks, mostly in English
    return (
        f"<tr><td><span class='badge' style='background:{colour}'>{html.escape(state)}</span></td>"
        f"<td><b>{html.escape(title)}</b><br><code>{html.escape(check.id)}</code></td>"
        f"<td{written_in}>{html.escape(check.message)}</td><td class='fig'>{figures}</td></tr>"
    )


THERMAL_LABELS = {
    "emissivity": "Emissivity",
    "reflected_temp_c": "Reflected temperature",
    "atmospheric_temp_c": "Air temperature",
    "relative_humidity_pct": "Relative humidity",
    "object_distance_m": "Object distance",
}


def _param_label(name: str, lang: Lang) -> str:
    key = f"qareport.param.{name}"
    return text(key, lang) if has(key) else THERMAL_LABELS.get(name, name)


def _thermal_table(report: QAReport, lang: Lang = "da") -> str:
    """The thermography parameters (check ``thermal.parameters``) as a small table, or ``""``."""
    check = next((c for c in report.checks if c.id == "thermal.parameters" and c.status != "skip"), None)
    if check is None:
        return ""
    values, sources = check.figures.get("parameters"), check.figures.get("sources")
    units = check.figures.get("units")
    if not isinstance(values, dict) or not isinstance(sources, dict):
        return ""
    units = units if isinstance(units, dict) else {}
    rows = []
    for name, value in values.items():
        shown = f"{value['min']:g} – {value['max']:g}" if isinstance(value, dict) else _figure_text(value)
        unit = html.escape(str(units.get(name, "")))
        label = _param_label(str(name), lang)
        rows.append(
            f"<tr><td>{html.escape(label)}</td><td>{shown} {unit}</td>"
            f"<td>{html.escape(str(sources.get(name, '')))}</td></tr>"
        )
    colour = _STATUS_COLOUR[check.status]
    frames = text("qareport.thermal_frames", lang, n=check.figures.get("frames", "?"))
    head = "".join(f"<th>{_word(k, lang)}</th>" for k in ("parameter", "value", "source"))
    return (
        f"<h2 id='thermal-parameters'>{html.escape(text('qareport.thermal_parameters', lang))} "
        f"<span class='badge' style='background:{colour}'>{html.escape(check_status(check.status, lang))}"
        f"</span></h2>\n<p>{html.escape(frames)} {html.escape(check.message)}</p>\n"
        f"<table class='thermal'><tr>{head}</tr>\n"
        + "\n".join(rows)
        + "\n</table>"
    )


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def _word(key: str, lang: Lang) -> str:
    """``qareport.<key>`` in ``lang``, HTML-escaped."""
    return html.escape(text(f"qareport.{key}", lang))


def _plot_title(name: str, lang: Lang) -> str:
    key = f"qareport.plot.{name}"
    return text(key, lang) if has(key) else PLOT_TITLES.get(name, name)


def _gate(report: QAReport, lang: Lang) -> str:
    """The thermal publication gate's paragraph, or ``""`` when the gate did not fail."""
    if not report.thermal_gate_failed:
        return ""
    state = text("qareport.blocked" if report.thermal_publication_blocked else "qareport.overridden", lang)
    why = report.thermal_gate_override
    override = f"<br>{_word('override_reason', lang)}: {html.escape(why)}" if why else ""
    return (
        f"<p class='gate'>{html.escape(text('qareport.gate', lang))}: <b>{html.escape(state)}</b> — "
        f"{html.escape(report.thermal_gate_reason or '')}{override}</p>"
    )


def render_html(
    report: QAReport, images: Mapping[str, bytes], lang: Lang = "da", switch: tuple[str, str] | None = None
) -> str:
    """The self-contained HTML page (no external URLs: styles and plots are inline).

    Args:
        report: The QA report.
        images: Plot name -> PNG bytes (inlined).
        lang: ``da`` (default) or ``en``.
        switch: ``(href, label)`` of a link to the page in the other language (the service adds it).
    """
    counts = report.counts()
    gate = _gate(report, lang)
    rows = "\n".join(_check_row(c, lang) for c in report.checks)
    thermal = _thermal_table(report, lang)
    plots = "\n".join(
        f"<figure><img alt='{html.escape(_plot_title(name, lang))}' src='data:image/png;base64,{_b64(png)}'>"
        f"<figcaption>{html.escape(_plot_title(name, lang))}</figcaption></figure>"
        for name, png in images.items()
    )
    colour = _STATUS_COLOUR[report.status]
    words = ("overall", "checks", "status", "check", "finding", "figures", "plots", "findings_note")
    t = {k: _word(k, lang) for k in words}
    title = html.escape(text("qareport.title", lang, flight=report.flight))
    summary = html.escape(
        text(
            "qareport.counts",
            lang,
            passed=counts["pass"],
            warned=counts["warn"],
            failed=counts["fail"],
            skipped=counts["skip"],
        )
    )
    when = local_text(report.created)
    created = html.escape(text("qareport.created", lang, when=when, schema=report.schema_version))
    note = f"<p class='note'>{t['findings_note']}</p>\n" if lang == "da" else ""
    other = ""
    if switch:
        href, label = html.escape(switch[0]), html.escape(switch[1])
        other = f"<p><a href='{href}' lang='{'en' if lang == 'da' else 'da'}'>{label}</a></p>"
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{font-family:sans-serif;margin:1.5em;max-width:1200px}} table{{border-collapse:collapse;width:100%}}
td,th{{border-bottom:1px solid #ddd;padding:4px 6px;vertical-align:top;font-size:13px}}
.badge{{color:#fff;padding:2px 6px;border-radius:3px;font-weight:bold}} .fig{{font-size:11px;color:#444}}
.overall{{font-size:22px}} .gate{{border:2px solid #c62828;padding:6px}}
figure{{display:inline-block;margin:6px}}
img{{max-width:560px;border:1px solid #ccc}}
</style></head><body>
{other}<h1>{title}</h1>
<p class="overall">{t["overall"]}: <span class="badge" style="background:{colour}">\
{html.escape(check_status(report.status, lang).upper())}</span>
&nbsp; {summary}</p>
<p>{created}</p>
{gate}
<h2>{t["checks"]}</h2>
{note}<table><tr><th>{t["status"]}</th><th>{t["check"]}</th><th>{t["finding"]}</th><th>{t["figures"]}</th></tr>
{rows}
</table>
{thermal}
<h2>{t["plots"]}</h2>
{plots}
</body></html>
"""


def write_report(report: QAReport, folder: Path, images: Mapping[str, bytes] | None = None) -> QAReport:
    """Write plots/<name>.png, report.json and report.html atomically into ``folder``.

    Returns:
        The report with ``plots`` set to the written PNG paths (relative to ``folder``).
    """
    images = dict(images or {})
    folder = Path(folder)
    plots = {}
    for name, png in images.items():
        rel = f"plots/{name}.png"
        atomic_write_bytes(folder / rel, png)
        plots[name] = rel
    report = report.model_copy(update={"plots": {**report.plots, **plots}})
    payload = json.loads(report.model_dump_json())
    atomic_write_text(folder / "report.json", json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(folder / "report.html", render_html(report, images))
    return report
