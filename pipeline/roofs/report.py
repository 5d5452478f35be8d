"""The HTML report of a roof run: one self-contained page, Danish first, then English."""

from __future__ import annotations

from pathlib import Path

import jinja2

from core.atomic import atomic_write_text
from pipeline.roofs.models import Building, RoofPlane, RoofRun, RoofStatus
from pipeline.surface.heights import DATUM_NAMES
from pipeline.volumes.tables import display_number

STATUS_NAMES = {
    RoofStatus.OK: ("ok", "ok"),
    RoofStatus.PARTIAL: ("delvis", "partial"),
    RoofStatus.FAILED: ("ikke målt", "not measured"),
}
METHOD_DA = (
    "tagflader fundet med normalstyret sekventiel RANSAC (én startcelle og dens hældning pr. hypotese; "
    "celler tæt på planet og med næsten samme normal), største sammenhængende felt pr. flade, regionvækst "
    "efter afstand til planet, robust (Tukey) slutudjævning pr. flade"
)
HEADERS = {
    "buildings": (
        [
            "Id",
            "Status",
            "Tagareal (m²)",
            "Grundareal (m²)",
            "Flader",
            "Dominerende hældning (°)",
            "Dominerende retning (°)",
            "Højde over terræn (m)",
            "Andel på flader (%)",
            "Bemærkninger",
        ],
        [
            "Id",
            "Status",
            "Roof area (m²)",
            "Footprint (m²)",
            "Faces",
            "Dominant slope (°)",
            "Dominant aspect (°)",
            "Height above terrain (m)",
            "Share on faces (%)",
            "Notes",
        ],
    ),
    "planes": (
        ["Bygning", "Flade", "Areal (m²)", "Areal 2D (m²)", "Hældning (°)", "Retning (°)", "RMSE (m)"],
        ["Building", "Face", "Area (m²)", "Area 2D (m²)", "Slope (°)", "Aspect (°)", "RMSE (m)"],
    ),
}

_TEMPLATE = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string(
    '{% macro left(loop) %}{% if loop.first or loop.last %} class="l"{% endif %}{% endmacro %}'
    """<!DOCTYPE html>
<html lang="da"><head><meta charset="utf-8"><title>Tagopmåling / Roof report</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:8px 0 20px}
td,th{border-bottom:1px solid #ddd;padding:3px 6px;font-size:13px;text-align:right;vertical-align:top}
td.l,th.l{text-align:left}.failed{color:#c62828}.partial{color:#ef6c00}.small{font-size:12px;color:#555}
</style></head><body>
{% for s in sections %}
<section lang="{{ s.lang }}">
<h1>{{ s.title }}</h1>
<table>
{% for k, v in s.facts %}<tr><th class="l">{{ k }}</th><td class="l">{{ v }}</td></tr>
{% endfor %}
</table>
{% for t in s.tables %}
<h2>{{ t.title }}</h2>
<table><tr>{% for h in t.header %}<th{{ left(loop) }}>{{ h }}</th>{% endfor %}</tr>
{% for row, css in t.rows %}<tr class="{{ css }}">
{% for v in row %}<td{{ left(loop) }}>{{ v }}</td>{% endfor %}</tr>
{% endfor %}
</table>
{% endfor %}
<p class="small">{{ s.method }}</p>
</section>
{% endfor %}
</body></html>
"""
)


def _building_row(b: Building, english: bool) -> tuple[list[str], str]:
    danish = not english
    share = None if b.assigned_share is None else 100 * b.assigned_share
    return [
        b.id,
        STATUS_NAMES[b.status][english],
        display_number(b.roof_area_m2, 1, danish),
        display_number(b.footprint_area_m2, 1, danish),
        str(b.planes),
        display_number(b.dominant_slope_deg, 1, danish),
        display_number(b.dominant_aspect_deg, 0, danish),
        display_number(b.height_m, 2, danish),
        display_number(share, 0, danish),
        "; ".join(b.problems),
    ], b.status.value


def _plane_row(p: RoofPlane, english: bool) -> tuple[list[str], str]:
    danish = not english
    return [
        p.building,
        str(p.index),
        display_number(p.area_m2, 1, danish),
        display_number(p.area_2d_m2, 1, danish),
        display_number(p.slope_deg, 1, danish),
        display_number(p.aspect_deg, 0, danish),
        display_number(p.rmse_m, 3, danish),
    ], ""


def _facts(run: RoofRun, english: bool) -> list[tuple[str, str]]:
    danish = not english
    measured = [b for b in run.buildings if b.status is not RoofStatus.FAILED]
    total = sum(b.roof_area_m2 or 0.0 for b in measured)
    labels = (
        ("DSM", "Footprints", "DTM", "Height datum", "Cell size (m)", "Buildings measured / total",
         "Roof area total (m²)", "Notes")
        if english
        else ("DSM", "Bygningsomrids", "DTM", "Højdedatum", "Cellestørrelse (m)", "Bygninger målt / i alt",
              "Tagareal i alt (m²)", "Bemærkninger")
    )  # fmt: skip
    values = (
        run.dsm,
        run.footprints_file,
        run.dtm or "–",
        DATUM_NAMES[run.height_datum][english],
        " × ".join(display_number(c, 3, danish) for c in run.cell_size_m),
        f"{len(measured)} / {len(run.buildings)}",
        display_number(total, 1, danish),
        "; ".join(run.notes) or "–",
    )
    return list(zip(labels, values, strict=True))


def write_report(dst: Path, run: RoofRun) -> Path:
    """Write the self-contained HTML report of ``run`` to ``dst`` (atomically)."""
    sections = []
    for english in (False, True):
        tables = [
            {
                "title": "Buildings" if english else "Bygninger",
                "header": HEADERS["buildings"][english],
                "rows": [_building_row(b, english) for b in run.buildings],
            },
            {
                "title": "Roof faces" if english else "Tagflader",
                "header": HEADERS["planes"][english],
                "rows": [_plane_row(p, english) for p in run.planes],
            },
        ]
        sections.append(
            {
                "lang": "en" if english else "da",
                "title": "Roof report" if english else "Tagopmåling",
                "facts": _facts(run, english),
                "tables": tables,
                "method": ("Method: " + run.method) if english else ("Metode: " + METHOD_DA),
            }
        )
    atomic_write_text(dst, _TEMPLATE.render(sections=sections))
    return dst
