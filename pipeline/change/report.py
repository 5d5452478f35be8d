"""The HTML report of a change detection: one self-contained page, Danish first, then English.

QA-style: a verdict with the checks behind it (co-registration quality, overlap), the facts
(inputs, grid, co-registration in pixels and metres, bias, rule), a map of the change with the
change areas outlined, the distribution of the difference, the change areas and, when area
polygons were given, their figures. Plots are inline PNG data URIs (no network needed).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
import numpy as np
import rasterio

from core import i18n
from core.atomic import atomic_write_text
from pipeline.change.models import ChangeKind, ChangeResult, InputSummary, SeriesPoint

if TYPE_CHECKING:
    from matplotlib.figure import Figure

QUICKLOOK_PX = 900
REPORT_CACHE_BYTES = 64 << 20
COLORMAP = "RdYlGn"
#: Co-registration checks: (warn above) residual of the patches, (warn below) phase-correlation peak.
WARN_RESIDUAL_PX, WARN_PEAK = 0.5, 0.15

_TEMPLATE = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string(
    """<!DOCTYPE html>
<html lang="da"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:8px 0 20px}
td,th{border-bottom:1px solid #ddd;padding:3px 8px;font-size:13px;text-align:left;vertical-align:top}
.badge{color:#fff;padding:2px 8px;border-radius:3px;font-weight:bold}
.pass{background:#2e7d32}.warn{background:#f9a825}
img{border:1px solid #ccc;margin:4px 12px 4px 0;max-width:560px}
</style></head><body>
{% for s in sections %}
<section lang="{{ s.lang }}">
<h1>{{ s.title }}</h1>
<p><span class="badge {{ s.status }}">{{ s.status_text }}</span></p>
<table>{% for ok, text in s.checks %}<tr><td><span class="badge {{ 'pass' if ok else 'warn' }}">
{{ s.pass if ok else s.warn }}</span></td><td>{{ text }}</td></tr>{% endfor %}</table>
<table>{% for k, v in s.facts %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>
{% for name, png in plots %}
<img src="data:image/png;base64,{{ png }}" alt="{{ s.plot_names[name] }}">
{% endfor %}
<h2>{{ s.areas_title }}</h2>
<table><tr>{% for h in s.area_header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in s.area_rows %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}</table>
{% if s.stats_rows %}<h2>{{ s.stats_title }}</h2>
<table><tr>{% for h in s.stats_header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in s.stats_rows %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</table>{% endif %}
<p>{{ s.rule }}</p>
</section>
{% endfor %}
</body></html>
"""
)


def number(value: float | None, digits: int = 2, *, danish: bool) -> str:
    """``value`` to at most ``digits`` decimals as people read it (Babel: ``0,08`` in Danish), or ``–``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return i18n.number(value, "da" if danish else "en", digits)


def _png(fig: Figure) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def change_map_plot(result: ChangeResult) -> str:
    """The change map (diverging colours, ±3 × threshold) with the change areas outlined."""
    import geopandas as gpd
    from matplotlib.figure import Figure

    with rasterio.open(result.change_map) as src:
        scale = max(1, math.ceil(max(src.width, src.height) / QUICKLOOK_PX))
        data = src.read(1, out_shape=(max(1, src.height // scale), max(1, src.width // scale)), masked=True)
        left, bottom, right, top = src.bounds
    limit = 3 * result.threshold
    fig = Figure(figsize=(7, 7 * data.shape[0] / max(data.shape[1], 1) + 0.8))
    ax = fig.add_subplot()
    image = ax.imshow(data, cmap=COLORMAP, vmin=-limit, vmax=limit, extent=(left, right, bottom, top))
    fig.colorbar(image, ax=ax, shrink=0.7, label=f"Δ {result.value}")
    areas = gpd.read_file(result.change_polygons, engine="pyogrio")
    if not areas.empty:
        areas.boundary.plot(ax=ax, color="black", linewidth=0.8)
    ax.set_title(f"{result.before.path.name} → {result.after.path.name}", fontsize=9)
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.tick_params(labelsize=7)
    return _png(fig)


def histogram_plot(result: ChangeResult) -> str:
    """Distribution of Δ over the overlap, with the threshold marked."""
    from matplotlib.figure import Figure

    with rasterio.open(result.change_map) as src:
        scale = max(1, math.ceil(max(src.width, src.height) / 2000))
        data = src.read(1, out_shape=(max(1, src.height // scale), max(1, src.width // scale)), masked=True)
    values = data.compressed()
    fig = Figure(figsize=(6, 3.2))
    ax = fig.add_subplot()
    limit = 4 * result.threshold
    ax.hist(np.clip(values, -limit, limit), bins=120, color="#607d8b")
    for x in (-result.threshold, result.threshold):
        ax.axvline(x, color="#c62828", linestyle="--", linewidth=1)
    ax.set_yscale("log")
    ax.set_xlabel(f"Δ {result.value} ({result.unit})")
    return _png(fig)


def series_plot(points: Sequence[SeriesPoint], unit: str) -> str:
    """Mean per area polygon over the flights (time series)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.2))
    ax = fig.add_subplot()
    for name in dict.fromkeys(p.id for p in points):
        mine = [p for p in points if p.id == name and p.mean is not None]
        dates = np.array([p.date.astimezone(UTC).replace(tzinfo=None) for p in mine], dtype="datetime64[s]")
        ax.plot(dates, np.array([p.mean for p in mine], dtype=float), marker="o", label=name)
    ax.set_ylabel(unit)
    ax.legend(fontsize=7)
    fig.autofmt_xdate()
    return _png(fig)


def _checks(result: ChangeResult, danish: bool) -> list[tuple[bool, str]]:
    al = result.alignment
    if al.model == "none":
        return [(False, "Samregistrering slået fra" if danish else "Co-registration switched off")]
    n = partial(number, danish=danish)
    residual_ok, peak_ok = al.residual_px <= WARN_RESIDUAL_PX, al.peak >= WARN_PEAK
    if danish:
        return [
            (
                residual_ok,
                f"Restafvigelse mellem felter {n(al.residual_px)} px (grænse {n(WARN_RESIDUAL_PX)} px)",
            ),
            (peak_ok, f"Fasekorrelationens top {n(al.peak, 3)} (grænse {n(WARN_PEAK)})"),
        ]
    return [
        (residual_ok, f"Residual between patches {n(al.residual_px)} px (limit {n(WARN_RESIDUAL_PX)} px)"),
        (peak_ok, f"Phase-correlation peak {n(al.peak, 3)} (limit {n(WARN_PEAK)})"),
    ]


RESAMPLING_DA = {
    "read as it is": "læst som den er",
    "average resampling": "middelværdi-resampling",
    "bilinear resampling": "bilineær resampling",
    "reprojected from": "omprojiceret fra",
}


def resampling_text(text: str, danish: bool) -> str:
    """How an input reached the grid, in Danish or English."""
    if danish:
        for en, da in RESAMPLING_DA.items():
            text = text.replace(en, da)
    return text


def _input_text(summary: InputSummary, unknown: str, danish: bool) -> str:
    when = _date(summary.time_start) or unknown
    return f"{summary.path.name} ({when}; {resampling_text(summary.resampling, danish)})"


def _date(value: datetime | None) -> str | None:
    return value.date().isoformat() if value is not None else None


def _facts(r: ChangeResult, danish: bool) -> list[tuple[str, str]]:
    n = partial(number, danish=danish)
    al = r.alignment
    unknown = "ukendt" if danish else "unknown"
    labels_da = ["Før", "Efter", "Sammenlignet", "Fælles gitter", "Forskydning", "Model", "Bias fjernet",
                 "Tærskel", "Mindste areal", "Udjævning", "Overlap",
                 "Ændret areal (tilvækst / tab)"]  # fmt: skip
    labels_en = ["Before", "After", "Compared", "Common grid", "Shift", "Model", "Bias removed", "Threshold",
                 "Minimum area", "Smoothing", "Overlap", "Changed area (gain / loss)"]  # fmt: skip
    values = [
        _input_text(r.before, unknown, danish),
        _input_text(r.after, unknown, danish),
        f"{r.value} [{r.unit}]",
        f"{r.grid.crs}, {n(r.grid.resolution, 3)} m, {r.grid.width} × {r.grid.height}",
        f"{n(al.dx_px)} / {n(al.dy_px)} px = {n(al.dx_m)} m E / {n(al.dy_m)} m N ({n(al.shift_m)} m)",
        f"{al.model}, {al.patches} " + ("felter" if danish else "patches") + f", ECC {n(al.ecc, 3)}",
        f"{n(r.bias, 3)} {r.unit}",
        f"± {n(r.threshold, 3)} {r.unit}",
        f"{n(r.min_area_m2, 1)} m²",
        f"σ = {n(r.smooth_m, 2)} m",
        f"{n(r.overlap_m2, 1)} m²",
        f"{n(r.changed_m2, 1)} m² ({n(r.gain_m2, 1)} / {n(r.loss_m2, 1)})",
    ]
    facts = list(zip(labels_da if danish else labels_en, values, strict=True))
    if r.kind is ChangeKind.DSM:
        key = "Volumen (fyld / afgravning)" if danish else "Volume (fill / cut)"
        facts.append((key, f"{n(r.volume_gain_m3, 1)} / {n(r.volume_loss_m3, 1)} m³"))
    return facts


def _section(r: ChangeResult, danish: bool) -> dict[str, object]:
    n = partial(number, danish=danish)
    checks = _checks(r, danish)
    ok = all(c[0] for c in checks)
    sign = {1: "tilvækst" if danish else "gain", -1: "tab" if danish else "loss"}
    rows = [[a.id, sign[a.sign], n(a.area_m2, 1), n(a.mean_change, 3), n(a.max_abs_change, 3),
             n(a.volume_m3, 2)] for a in r.areas[:200]]  # fmt: skip
    stats = [[s.id, n(s.area_m2, 1), n(s.before_mean, 3), n(s.after_mean, 3), n(s.diff_mean, 3),
              n(s.before_median, 3), n(s.after_median, 3), n(s.gained_m2, 1), n(s.lost_m2, 1),
              n(100 * s.changed_share, 1)] for s in r.area_stats]  # fmt: skip
    rule_da = (f"Regel: Δ = efter − før − bias, udjævnet (σ {n(r.smooth_m)} m); ændret hvor |Δ| ≥ "
               f"{n(r.threshold, 3)}, vokset til |Δ| ≥ {n(r.threshold / 2, 3)}; områder under "
               f"{n(r.min_area_m2, 1)} m² udeladt.")  # fmt: skip
    rule_en = (f"Rule: Δ = after − before − bias, smoothed (σ {n(r.smooth_m)} m); changed where |Δ| ≥ "
               f"{n(r.threshold, 3)}, grown to |Δ| ≥ {n(r.threshold / 2, 3)}; areas under "
               f"{n(r.min_area_m2, 1)} m² left out.")  # fmt: skip
    return {
        "lang": "da" if danish else "en",
        "title": "Ændringsanalyse" if danish else "Change detection",
        "status": "pass" if ok else "warn",
        "status_text": ("GODKENDT" if ok else "ADVARSEL") if danish else ("PASS" if ok else "WARNING"),
        "pass": "ok", "warn": "advarsel" if danish else "warning",
        "checks": checks, "facts": _facts(r, danish),
        "plot_names": {"map": "Ændringskort" if danish else "Change map",
                       "histogram": "Fordeling af Δ" if danish else "Distribution of Δ",
                       "series": "Tidsserie" if danish else "Time series"},
        "areas_title": f"Ændringsområder ({len(r.areas)})" if danish else f"Change areas ({len(r.areas)})",
        "area_header": ["id", "ændring", "areal m²", "middel Δ", "max |Δ|", "volumen m³"] if danish
        else ["id", "change", "area m²", "mean Δ", "max |Δ|", "volume m³"],
        "area_rows": rows,
        "stats_title": "Figurer pr. område" if danish else "Figures per area",
        "stats_header": ["område", "areal m²", "før middel", "efter middel", "forskel", "før median",
                         "efter median", "tilvækst m²", "tab m²", "ændret %"] if danish
        else ["area", "area m²", "before mean", "after mean", "difference", "before median", "after median",
              "gained m²", "lost m²", "changed %"],
        "stats_rows": stats,
        "rule": rule_da if danish else rule_en,
    }  # fmt: skip


def write_report(dst: Path, result: ChangeResult, series: Sequence[SeriesPoint] = ()) -> Path:
    """Write the report page to ``dst`` (atomically)."""
    # the quick-looks read overviews; GDAL needs a block cache for that (GDAL_CACHEMAX is in bytes here)
    with rasterio.Env(GDAL_CACHEMAX=REPORT_CACHE_BYTES):
        plots = [("map", change_map_plot(result)), ("histogram", histogram_plot(result))]
    if series:
        plots.append(("series", series_plot(series, result.unit)))
    html = _TEMPLATE.render(
        title="Ændringsanalyse / Change detection",
        sections=[_section(result, True), _section(result, False)],
        plots=plots,
    )
    atomic_write_text(dst, html)
    return dst
