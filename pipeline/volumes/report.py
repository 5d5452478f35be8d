"""The HTML report of a volume run: one self-contained page, Danish first, then English.

Everything is inline (CSS, the legend and a quick-look of the cut/fill raster as PNG data
URIs), so the page opens from a mail attachment or a tender folder without a network.
Numbers in the Danish part use a decimal comma, in the English part a decimal point.
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
import numpy as np
import rasterio

from core.atomic import atomic_write_text
from pipeline.surface.heights import DATUM_NAMES
from pipeline.volumes.cutfill import COLORMAP
from pipeline.volumes.models import BaseMethod, PolygonVolume, VolumeRun, VolumeStatus
from pipeline.volumes.tables import display_number
from pipeline.volumes.uncertainty import MODEL_DA, MODEL_EN

if TYPE_CHECKING:
    from matplotlib.figure import Figure

QUICKLOOK_PX = 900
BASE_NAMES = {
    BaseMethod.PLANE: (
        "plan tilpasset polygonens rand (robust)",
        "plane fitted to the polygon boundary (robust)",
    ),
    BaseMethod.LOWEST: ("laveste højde på randen", "lowest boundary height"),
    BaseMethod.AVERAGE: ("middelhøjde på randen", "mean boundary height"),
    BaseMethod.SURFACE: ("basisflade (raster)", "base surface (raster)"),
}
STATUS_NAMES = {
    VolumeStatus.OK: ("ok", "ok"),
    VolumeStatus.PARTIAL: ("delvis", "partial"),
    VolumeStatus.FAILED: ("ikke målt", "not measured"),
}

_TEMPLATE = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string(
    '{% macro left(loop) %}{% if loop.index <= 2 or loop.last %} class="l"{% endif %}{% endmacro %}'
    """<!DOCTYPE html>
<html lang="da"><head><meta charset="utf-8"><title>{{ t.title }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:8px 0 20px}
td,th{border-bottom:1px solid #ddd;padding:3px 6px;font-size:13px;text-align:right;vertical-align:top}
td.l,th.l{text-align:left}.bad{color:#c62828}.part{color:#ef6c00}.small{font-size:12px;color:#555}
img{border:1px solid #ccc;margin-right:12px}
</style></head><body>
{% for s in sections %}
<section lang="{{ s.lang }}">
<h1>{{ s.title }}</h1>
<table>
{% for k, v in s.facts %}<tr><th class="l">{{ k }}</th><td class="l">{{ v }}</td></tr>
{% endfor %}
</table>
{% if quicklook %}<p><img src="data:image/png;base64,{{ quicklook }}" alt="{{ s.map }}">
{% if legend %}<img src="data:image/png;base64,{{ legend }}" alt="{{ s.legend }}">{% endif %}</p>{% endif %}
<h2>{{ s.table }}</h2>
<table><tr>{% for h in s.header %}<th{{ left(loop) }}>{{ h }}</th>{% endfor %}</tr>
{% for row, css in s.rows %}<tr class="{{ css }}">
{% for v in row %}<td{{ left(loop) }}>{{ v }}</td>{% endfor %}</tr>
{% endfor %}
</table>
<p class="small">{{ s.model }}</p>
</section>
{% endfor %}
</body></html>
"""
)


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def quicklook(cutfill: Path, vmax: float) -> str:
    """The cut/fill raster at most ``QUICKLOOK_PX`` wide, coloured like its legend (base64 PNG)."""
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    with rasterio.open(cutfill) as ds:
        factor = max(1, math.ceil(max(ds.width, ds.height) / QUICKLOOK_PX))
        band = ds.read(1, out_shape=(max(1, ds.height // factor), max(1, ds.width // factor)), masked=True)
    fig = Figure(figsize=(band.shape[1] / 100 + 0.2, band.shape[0] / 100 + 0.2), dpi=100)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
    ax.imshow(np.ma.filled(band.astype(float), np.nan), cmap=COLORMAP, norm=Normalize(-vmax, vmax))
    ax.set_axis_off()
    return _png(fig)


def _row(p: PolygonVolume, english: bool) -> tuple[list[str], str]:
    comma = not english
    u = p.uncertainty
    cells = [
        p.id,
        STATUS_NAMES[p.status][english],
        display_number(p.cut_m3, 2, comma),
        display_number(p.fill_m3, 2, comma),
        display_number(p.net_m3, 2, comma),
        "±" + display_number(u.total95_m3 if u else None, 2, comma),
        display_number(p.area_2d_m2, 1, comma),
        display_number(p.area_3d_m2, 1, comma),
        display_number(None if p.coverage is None else 100 * p.coverage, 1, comma),
        display_number(p.max_height_m, 3, comma),
        display_number(p.max_depth_m, 3, comma),
        display_number(p.base.residual_rmse_m if p.base else None, 3, comma),
        "; ".join(p.problems),
    ]
    css = {VolumeStatus.FAILED: "bad", VolumeStatus.PARTIAL: "part"}.get(p.status, "")
    return cells, css


def _facts(run: VolumeRun, english: bool) -> list[tuple[str, str]]:
    comma = not english
    measured = [p for p in run.polygons if p.status is not VolumeStatus.FAILED]
    total = sum((p.net_m3 or 0.0) for p in measured)
    err = run.dsm_error
    labels = (
        ("DSM", "Polygoner", "Basis", "Basisraster", "Højdedatum", "Cellestørrelse (m)", "Lodret nøjagtighed",
         "Polygoner målt / i alt", "Netto i alt (m³)", "Bemærkninger")
        if not english else
        ("DSM", "Polygons", "Base", "Base raster", "Height datum", "Cell size (m)", "Vertical accuracy",
         "Polygons measured / total", "Net total (m³)", "Notes")
    )  # fmt: skip
    accuracy = (
        f"bias {display_number(err.bias_m, 3, comma)} m, σ {display_number(err.sigma_m, 3, comma)} m "
        f"({err.source})"
        if err.known
        else ("ikke oplyst" if not english else "not given")
    )
    values = (
        run.dsm, run.polygons_file, BASE_NAMES[run.base][english], run.base_dem or "–",
        DATUM_NAMES[run.height_datum][english],
        " × ".join(display_number(c, 3, comma) for c in run.cell_size_m), accuracy,
        f"{len(measured)} / {len(run.polygons)}", display_number(total, 2, comma),
        "; ".join(run.notes) or "–",
    )  # fmt: skip
    return list(zip(labels, values, strict=True))


HEADERS = (
    ["Id", "Status", "Afgravning (m³)", "Opfyldning (m³)", "Netto (m³)", "Usikkerhed 95 % (m³)",
     "Areal 2D (m²)", "Areal 3D (m²)", "Dækning (%)", "Maks. højde (m)", "Maks. dybde (m)", "Basis RMSE (m)",
     "Bemærkninger"],
    ["Id", "Status", "Cut (m³)", "Fill (m³)", "Net (m³)", "Uncertainty 95 % (m³)", "Area 2D (m²)",
     "Area 3D (m²)", "Coverage (%)", "Max height (m)", "Max depth (m)", "Base RMSE (m)", "Notes"],
)  # fmt: skip


def write_report(dst: Path, run: VolumeRun, cutfill: Path | None, legend: Path | None) -> Path:
    """Write the self-contained HTML report of ``run`` to ``dst`` (atomically)."""
    look = ""
    if cutfill is not None:
        with rasterio.open(cutfill) as ds:
            vmax = float(ds.tags().get("DRONEGIS_VMAX", "1"))
        look = quicklook(cutfill, vmax)
    sections = []
    for english in (False, True):
        sections.append(
            {
                "lang": "en" if english else "da",
                "title": "Volume report" if english else "Volumenberegning",
                "facts": _facts(run, english),
                "table": "Per polygon" if english else "Pr. polygon",
                "header": HEADERS[english],
                "rows": [_row(p, english) for p in run.polygons],
                "model": ("Uncertainty: " + MODEL_EN) if english else ("Usikkerhed: " + MODEL_DA),
                "map": "cut/fill map" if english else "kort over afgravning/opfyldning",
                "legend": "legend" if english else "signaturforklaring",
            }
        )
    legend_b64 = base64.b64encode(legend.read_bytes()).decode("ascii") if legend is not None else ""
    html = _TEMPLATE.render(
        t={"title": "Volumenberegning / Volume report"}, sections=sections, quicklook=look, legend=legend_b64
    )
    atomic_write_text(dst, html)
    return dst
