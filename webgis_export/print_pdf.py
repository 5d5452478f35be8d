"""An A4 PDF of one layer for a case file: map at a stated scale, scale bar, north arrow, legend, trust.

Laid out with ReportLab (BSD, maintained, pure Python wheels; no system libraries, unlike
WeasyPrint's Pango): the page is drawn in millimetres on a canvas. Text uses DejaVu Sans
from Matplotlib's font folder (already a dependency), so Danish letters, ±, ° and ≥ print
and the text can be searched and copied. Everything a case file needs is on the sheet:
title, date flown, accuracy, height datum, QA status with reasons, approval, freshness,
source, coordinate system, scale and the print date — in Danish unless English was asked.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import matplotlib
import shapely
from reportlab.lib.pagesizes import A4, landscape, portrait
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from shapely.geometry.base import BaseGeometry

from core.i18n import Lang, day, number, text
from core.localtime import local
from core.models import Frozen
from webgis_export.layer_text import LayerText
from webgis_export.models import Layer
from webgis_export.print_map import MapSheet, Orientation, scale_bar_m

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
MARGIN = 12.0  # mm
FRAMES: dict[Orientation, tuple[float, float]] = {"portrait": (186.0, 150.0), "landscape": (190.0, 155.0)}
PAPER = "#f3f1e8"


class PrintContent(Frozen):
    """What goes on the sheet besides the map image."""

    layer: Layer
    shown: LayerText
    title: str
    lang: Lang
    orientation: Orientation
    printed: datetime
    map_sheet: MapSheet
    legend_png: bytes | None = None
    boundary_wkb: bytes | None = None


def frame_mm(orientation: Orientation) -> tuple[float, float]:
    """Width and height of the map frame (mm)."""
    return FRAMES[orientation]


def _fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))


def render_pdf(content: PrintContent, map_png: bytes) -> bytes:
    """The PDF: one A4 page, portrait or landscape."""
    _fonts()
    size = portrait(A4) if content.orientation == "portrait" else landscape(A4)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=size, pageCompression=1)
    canvas.setTitle(content.title)
    canvas.setAuthor("dronegis, Skanderborg Kommune")
    canvas.setSubject(content.shown.flown)
    width_mm, height_mm = size[0] / mm, size[1] / mm
    top = height_mm - MARGIN
    canvas.setFont(BOLD, 15)
    y = _lines(canvas, MARGIN, top - 6, [content.title], width_mm - 2 * MARGIN, BOLD, 15, 6.5)
    canvas.setFont(FONT, 9)
    shown = content.shown
    flown = f"{text('print.flown', content.lang)} {shown.flown}"
    parts = [shown.title if content.title != shown.title else shown.kind, shown.place or "", flown]
    subtitle = " · ".join(part for part in parts if part)
    y = _lines(canvas, MARGIN, y, [subtitle], width_mm - 2 * MARGIN, FONT, 9, 4.2) - 2
    fw, fh = frame_mm(content.orientation)
    frame = (MARGIN, y - fh, fw, fh)
    _draw_map(canvas, content, frame, map_png)
    if content.orientation == "portrait":
        column = (MARGIN, frame[1] - 4, 88.0)
        info = (MARGIN + 92.0, frame[1] - 4, width_mm - 2 * MARGIN - 92.0)
    else:
        column = (MARGIN + fw + 5, y, width_mm - 2 * MARGIN - fw - 5)
        info = (column[0], y - 62, column[2])
    _legend(canvas, content, column)
    _facts(canvas, content, info)
    _footer(canvas, content, width_mm)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _lines(
    canvas: Canvas, x: float, y: float, texts: list[str], width: float, font: str, size: float, leading: float
) -> float:
    """Draw wrapped lines from (x, y) downwards (mm); return the y below them."""
    canvas.setFont(font, size)
    for paragraph in texts:
        for line in simpleSplit(paragraph, font, size, width * mm) or [""]:
            canvas.drawString(x * mm, y * mm, line)
            y -= leading
    return y


def _to_paper(
    frame: tuple[float, float, float, float], extent: tuple[float, ...], x: float, y: float
) -> tuple[float, float]:
    fx, fy, fw, fh = frame
    return (fx + (x - extent[0]) / (extent[2] - extent[0]) * fw) * mm, (
        fy + (y - extent[1]) / (extent[3] - extent[1]) * fh
    ) * mm


def _draw_map(
    canvas: Canvas, content: PrintContent, frame: tuple[float, float, float, float], png: bytes
) -> None:
    fx, fy, fw, fh = frame
    extent = content.map_sheet.extent
    canvas.saveState()
    clip = canvas.beginPath()
    clip.rect(fx * mm, fy * mm, fw * mm, fh * mm)
    canvas.clipPath(clip, stroke=0)
    canvas.setFillColor(PAPER)
    canvas.rect(fx * mm, fy * mm, fw * mm, fh * mm, stroke=0, fill=1)
    if content.boundary_wkb is not None:
        _boundary(canvas, frame, extent, content.boundary_wkb)
    canvas.drawImage(ImageReader(io.BytesIO(png)), fx * mm, fy * mm, fw * mm, fh * mm, mask="auto")
    left, bottom, right, top = content.layer.bounds
    canvas.setStrokeColor("#1f5f99")
    canvas.setDash(4, 3)
    x0, y0 = _to_paper(frame, extent, left, bottom)
    x1, y1 = _to_paper(frame, extent, right, top)
    canvas.rect(x0, y0, x1 - x0, y1 - y0, stroke=1, fill=0)
    canvas.restoreState()
    canvas.setStrokeColor("#000000")
    canvas.setLineWidth(0.8)
    canvas.rect(fx * mm, fy * mm, fw * mm, fh * mm, stroke=1, fill=0)
    _north_arrow(canvas, fx + fw - 10, fy + fh - 18)
    _scale_bar(canvas, content, fx + 4, fy + 4, fw)


def _boundary(
    canvas: Canvas, frame: tuple[float, float, float, float], extent: tuple[float, ...], wkb: bytes
) -> None:
    geometry: BaseGeometry = shapely.from_wkb(wkb)
    canvas.setStrokeColor("#6b5b3e")
    canvas.setLineWidth(1.2)
    for polygon in getattr(geometry, "geoms", [geometry]):
        ring = list(polygon.exterior.coords)
        path = canvas.beginPath()
        path.moveTo(*_to_paper(frame, extent, *ring[0][:2]))
        for x, y in ring[1:]:
            path.lineTo(*_to_paper(frame, extent, x, y))
        canvas.drawPath(path, stroke=1, fill=0)


def _north_arrow(canvas: Canvas, x: float, y: float) -> None:
    canvas.setFillColor("#000000")
    path = canvas.beginPath()
    path.moveTo(x * mm, (y + 12) * mm)
    path.lineTo((x - 3.5) * mm, y * mm)
    path.lineTo(x * mm, (y + 3) * mm)
    path.lineTo((x + 3.5) * mm, y * mm)
    path.close()
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.setFont(BOLD, 10)
    canvas.drawCentredString(x * mm, (y + 13.5) * mm, "N")


def _scale_bar(canvas: Canvas, content: PrintContent, x: float, y: float, frame_width: float) -> None:
    """The stated scale above a bar of a round length, in a white box at the map's lower left."""
    extent = content.map_sheet.extent
    ground = extent[2] - extent[0]
    length_m = scale_bar_m(ground)
    length_mm = length_m / ground * frame_width
    label = (
        f"{number(length_m, content.lang, 0)} m"
        if length_m >= 1
        else f"{number(length_m * 100, content.lang, 0)} cm"
    )
    scale = text("print.scale", content.lang, scale=number(content.map_sheet.scale, content.lang, 0))
    canvas.setFillColor("#ffffff")
    canvas.rect((x - 1.5) * mm, (y - 1.5) * mm, (length_mm + 16) * mm, 12 * mm, stroke=0, fill=1)
    canvas.setFillColor("#000000")
    canvas.setFont(BOLD, 7.5)
    canvas.drawString(x * mm, (y + 7) * mm, scale)
    for i in range(4):
        canvas.setFillColor("#000000" if i % 2 == 0 else "#ffffff")
        canvas.rect(
            (x + i * length_mm / 4) * mm, (y + 3.2) * mm, length_mm / 4 * mm, 1.6 * mm, stroke=1, fill=1
        )
    canvas.setFillColor("#000000")
    canvas.setFont(FONT, 7)
    canvas.drawString(x * mm, y * mm, "0")
    canvas.drawString((x + length_mm + 1.5) * mm, (y + 3.2) * mm, label)


def _legend(canvas: Canvas, content: PrintContent, column: tuple[float, float, float]) -> None:
    x, y, width = column
    canvas.setFillColor("#000000")
    y = _lines(canvas, x, y - 4, [text("print.legend", content.lang)], width, BOLD, 10, 5)
    if content.legend_png is None:
        _lines(canvas, x, y, [text("viewer.rgb_legend", content.lang)], width, FONT, 8.5, 4)
        return
    image = ImageReader(io.BytesIO(content.legend_png))
    w_px, h_px = image.getSize()
    height = min(55.0, width * h_px / w_px)
    canvas.drawImage(image, x * mm, (y - height) * mm, height * w_px / h_px * mm, height * mm, mask="auto")


def _facts(canvas: Canvas, content: PrintContent, column: tuple[float, float, float]) -> None:
    x, y, width = column
    lang, shown, printed = content.lang, content.shown, local(content.printed)
    accuracy = shown.accuracy.text + (f" ({shown.accuracy.caution})" if shown.accuracy.caution else "")
    qa = shown.qa.label + "".join(f"\n– {reason}" for reason in shown.qa.reasons[:4])
    scale = text("print.scale", lang, scale=number(content.map_sheet.scale, lang, 0))
    rows = [
        ("print.flown", shown.flown + (f" ({shown.age})" if shown.age else "")),
        ("print.accuracy", accuracy),
        ("print.datum", shown.datum),
        ("print.qa", qa),
        ("print.approval", shown.approval or ""),
        ("print.freshness", shown.freshness),
        (
            "print.source",
            text("print.source_text", lang, layer=content.layer.id, flight=content.layer.flight),
        ),
        ("print.crs", f"ETRS89 / UTM zone 32N (EPSG:25832) · {scale} (A4)"),
        (
            "print.printed",
            f"{day(printed.date(), lang)} {text('time.at', lang, hm=printed.strftime('%H:%M'))}",
        ),
    ]
    for key, value in rows:
        if not value:
            continue
        canvas.setFillColor("#000000")
        y = _lines(canvas, x, y - 1, [text(key, lang)], width, BOLD, 8.5, 3.8)
        y = _lines(canvas, x, y, value.split("\n"), width, FONT, 8, 3.6) - 1.2


def _footer(canvas: Canvas, content: PrintContent, width_mm: float) -> None:
    notes = [text("print.use_note", content.lang)]
    if content.layer.is_thermal:
        notes.insert(0, text("print.thermal_note", content.lang))
    canvas.setFillColor("#333333")
    _lines(canvas, MARGIN, MARGIN + 4 * len(notes) - 2, notes, width_mm - 2 * MARGIN, FONT, 7.5, 3.6)
