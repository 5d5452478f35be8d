"""A card per building: HTML (Danish first, then English) with PNG crops and a histogram beside it.

Files: ``cards/<key>.html`` and ``cards/<key>_thermal.png``, ``_rgb.png`` (when an RGB raster
is given), ``_hist.png``; ``cards/index.html`` lists every building by rank. Images are
referenced by relative paths, so the folder can be moved or published as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rasterio
from pyproj import CRS
from rasterio.io import DatasetReader
from rasterio.windows import from_bounds
from shapely.geometry.base import BaseGeometry

from core.atomic import atomic_open, atomic_write_text
from pipeline.buildings.analysis import reprojector
from pipeline.buildings.card_html import card_page, index_page
from pipeline.buildings.models import Building, BuildingsReport

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MARGIN_M = 4.0
DPI = 80


def card_name(key: str) -> str:
    """A file-name-safe form of a building key."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", key)


def outline(ax: Axes, geom: BaseGeometry, colour: str, width: float) -> None:
    """Draw the rings of a (multi)polygon."""
    for part in getattr(geom, "geoms", [geom]):
        for ring in [part.exterior, *part.interiors]:
            xs, ys = ring.xy
            ax.plot(xs, ys, color=colour, linewidth=width)


def save(fig: Figure, path: Path) -> None:
    """Write a figure as PNG atomically."""
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=DPI)


def crop_figure(
    dataset: DatasetReader,
    building: Building,
    to_raster: Callable[[BaseGeometry], BaseGeometry],
    thermal: bool,
) -> Figure | None:
    """The crop of a raster around a footprint, the footprint in white and hot spots in cyan."""
    from matplotlib.figure import Figure  # lazy: +0.7 s, only when a card is drawn

    assert building.geometry is not None
    footprint = to_raster(building.geometry)
    minx, miny, maxx, maxy = footprint.buffer(MARGIN_M).bounds
    window = from_bounds(minx, miny, maxx, maxy, dataset.transform).round_offsets().round_lengths()
    window = window.intersection(rasterio.windows.Window(0, 0, dataset.width, dataset.height))
    if window.width < 1 or window.height < 1:
        return None
    left, bottom, right, top = rasterio.windows.bounds(window, dataset.transform)
    fig = Figure(figsize=(4, 3.4))
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.98)
    ax = fig.add_subplot()
    if thermal:
        data = dataset.read(1, window=window, masked=True).astype("float64")
        image = ax.imshow(data, cmap="inferno", extent=(left, right, bottom, top))
        fig.colorbar(image, ax=ax, shrink=0.8, label="°C")
    else:
        bands = dataset.read([1, 2, 3], window=window).astype("float64")
        low, high = np.percentile(bands, [1, 99]) if dataset.dtypes[0] != "uint8" else (0.0, 255.0)
        ax.imshow(
            np.clip((np.moveaxis(bands, 0, -1) - low) / max(high - low, 1e-9), 0, 1),
            extent=(left, right, bottom, top),
        )
    outline(ax, footprint, "white", 1.5)
    for spot in building.hot_spots:
        outline(ax, to_raster(spot.geometry), "cyan", 1.2)
        centre = to_raster(spot.geometry).representative_point()
        ax.annotate(str(spot.number), (centre.x, centre.y), color="cyan", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    return fig


def histogram_figure(building: Building, min_excess: float) -> Figure | None:
    """The roof's temperature histogram with its median, the reference and the hot-spot threshold."""
    from matplotlib.figure import Figure

    if building.histogram is None or building.stats.median is None:
        return None
    start, width, counts = building.histogram
    values = np.asarray(counts, dtype=float)
    step = max(1, int(np.ceil(values.size / 60)))
    merged = np.add.reduceat(values, np.arange(0, values.size, step))
    edges = start + width * np.arange(0, values.size, step)
    fig = Figure(figsize=(5, 2.6))
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.2, top=0.95)
    ax = fig.add_subplot()
    ax.bar(edges, merged, width=width * step, align="edge", color="#b5513a")
    ax.axvline(building.stats.median, color="black", label="median")
    ax.axvline(
        building.stats.median + min_excess, color="cyan", linestyle="--", label=f"median + {min_excess:g} K"
    )
    if building.reference_c is not None:
        ax.axvline(building.reference_c, color="grey", linestyle=":", label="reference")
    ax.set_xlabel("°C")
    ax.legend(fontsize=7)
    return fig


def write_cards(report: BuildingsReport, folder: Path) -> dict[str, str]:
    """Write every building's card and the index; return card paths relative to the output folder.

    Each thermal crop comes from the raster the roof was measured on (``Building.thermal``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    config = report.config
    cards: dict[str, str] = {}
    output_crs = CRS.from_user_input(config.output_crs)
    with ExitStack() as stack:
        thermals: dict[Path, tuple[DatasetReader, Callable[[BaseGeometry], BaseGeometry]]] = {}

        def thermal_of(b: Building) -> tuple[DatasetReader, Callable[[BaseGeometry], BaseGeometry]]:
            path = b.thermal or config.thermal
            if path not in thermals:
                dataset = stack.enter_context(rasterio.open(path))
                thermals[path] = (dataset, reprojector(output_crs, dataset.crs))
            return thermals[path]

        rgb = stack.enter_context(rasterio.open(config.rgb)) if config.rgb else None
        to_rgb = reprojector(output_crs, rgb.crs) if rgb else None
        for b in report.buildings:
            name = card_name(b.key)
            images: dict[str, str] = {}
            thermal, to_thermal = thermal_of(b)
            figures = {
                "thermal": crop_figure(thermal, b, to_thermal, True) if b.geometry is not None else None,
                "rgb": crop_figure(rgb, b, to_rgb, False)
                if rgb and to_rgb and b.geometry is not None
                else None,
                "histogram": histogram_figure(b, config.hot_spots.min_excess_k),
            }
            for kind, fig in figures.items():
                if fig is not None:
                    save(fig, folder / f"{name}_{kind}.png")
                    images[kind] = f"{name}_{kind}.png"
            atomic_write_text(folder / f"{name}.html", card_page(b, report, images))
            cards[b.key] = f"{folder.name}/{name}.html"
    atomic_write_text(folder / "index.html", index_page(report, cards))
    return cards
