"""PNG plots for QA reports (matplotlib, Agg canvas, no global pyplot state).

Every function returns PNG bytes, so the report can inline them as base64. matplotlib is imported
when the first figure is drawn (about 0.7 s), so importing :mod:`qa` stays cheap.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from shapely.geometry.base import BaseGeometry

from core.localtime import local_date
from qa.coverage import OverlapMap
from qa.freshness import FreshnessStatus
from qa.precision import PointError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_COLOURS = {"fresh": "#2e7d32", "warn": "#f9a825", "stale": "#c62828"}


def _figure(width: float, height: float) -> Figure:
    """A new figure on its own Agg canvas (no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _num(day: object) -> float:
    from matplotlib.dates import date2num

    return float(date2num(day))  # type: ignore[no-untyped-call]  # matplotlib.dates.date2num is unannotated


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return buffer.getvalue()


def _outline(ax: Axes, geom: BaseGeometry, **style: Any) -> None:
    for poly in getattr(geom, "geoms", [geom]):
        exterior = getattr(poly, "exterior", None)
        if exterior is None:
            continue
        x, y = exterior.xy
        ax.plot(x, y, **style)


def footprints_plot(
    footprints: Mapping[str, BaseGeometry],
    aoi: BaseGeometry | None = None,
    municipality: BaseGeometry | None = None,
) -> bytes:
    """Frame footprints over the AOI (and the municipality boundary when it is near)."""
    fig = _figure(6, 5)
    ax = fig.add_subplot()
    for geom in footprints.values():
        _outline(ax, geom, color="#1565c0", lw=0.6, alpha=0.7)
    if aoi is not None:
        _outline(ax, aoi, color="#c62828", lw=2, label="AOI")
    if municipality is not None:
        _outline(ax, municipality, color="#6d4c41", lw=1, ls="--", label="municipality")
    if footprints:
        minx = min(g.bounds[0] for g in footprints.values())
        miny = min(g.bounds[1] for g in footprints.values())
        maxx = max(g.bounds[2] for g in footprints.values())
        maxy = max(g.bounds[3] for g in footprints.values())
        pad = 0.1 * max(maxx - minx, maxy - miny, 1.0)
        ax.set_xlim(minx - pad, maxx + pad)
        ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    ax.set_title(f"{len(footprints)} footprints")
    if aoi is not None or municipality is not None:
        ax.legend(loc="best", fontsize=8)
    return _png(fig)


def error_vectors_plot(
    points: Sequence[tuple[float, float, PointError]], title: str = "check-point errors"
) -> bytes:
    """Arrows from each surveyed position along its horizontal error (scaled for visibility)."""
    fig = _figure(6, 5)
    ax = fig.add_subplot()
    if points:
        xs = np.array([p[0] for p in points])
        ys = np.array([p[1] for p in points])
        dx = np.array([p[2].dx for p in points])
        dy = np.array([p[2].dy for p in points])
        span = max(float(np.ptp(xs)), float(np.ptp(ys)), 1.0)
        longest = max(float(np.hypot(dx, dy).max()), 1e-9)
        scale = 0.15 * span / longest
        ax.quiver(
            xs,
            ys,
            dx * scale,
            dy * scale,
            angles="xy",
            scale_units="xy",
            scale=1,
            color="#c62828",
            width=0.004,
        )
        ax.scatter(xs, ys, s=12, color="k")
        for x, y, e in points:
            ax.annotate(e.name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_title(f"{title} (arrows ×{scale:.0f}; longest {longest:.3f} m)")
    ax.set_aspect("equal")
    return _png(fig)


def error_histogram(errors: Sequence[PointError], title: str = "horizontal error") -> bytes:
    """Histogram of horizontal (and vertical, when measured) errors in metres."""
    fig = _figure(6, 3.5)
    ax = fig.add_subplot()
    dh = [e.dh for e in errors]
    dz = [e.dz for e in errors if e.dz is not None]
    ax.hist(dh, bins=max(5, len(dh) // 2), alpha=0.8, label="|dH| m")
    if dz:
        ax.hist(dz, bins=max(5, len(dz) // 2), alpha=0.6, label="dz m")
    ax.set_xlabel("metres")
    ax.set_ylabel("check points")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _png(fig)


def overlap_plot(omap: OverlapMap) -> bytes:
    """Frames per cell."""
    fig = _figure(6, 5)
    ax = fig.add_subplot()
    h, w = omap.counts.shape
    t = omap.transform
    extent = (t.c, t.c + w * t.a, t.f + h * t.e, t.f)
    image = ax.imshow(
        np.ma.masked_equal(omap.counts, 0), extent=extent, cmap="viridis", interpolation="nearest"
    )
    fig.colorbar(image, ax=ax, label="frames")
    ax.set_title("overlap (frames per cell)")
    return _png(fig)


def thermal_histogram(frames: Mapping[str, np.ndarray]) -> bytes:
    """Distribution of temperatures over every thermal raster."""
    fig = _figure(6, 3.5)
    ax = fig.add_subplot()
    for name, values in list(frames.items())[:8]:
        finite = np.asarray(values, dtype=np.float64)
        finite = finite[np.isfinite(finite)]
        if finite.size:
            ax.hist(finite.ravel(), bins=60, histtype="step", label=name[-30:])
    ax.set_xlabel("°C")
    ax.set_ylabel("pixels")
    ax.set_title("thermal values")
    ax.legend(fontsize=6)
    return _png(fig)


def freshness_timeline(statuses: Mapping[str, FreshnessStatus], now: datetime) -> bytes:
    """One bar per layer from capture to the day it turns stale, coloured by status."""
    fig = _figure(7, 0.6 + 0.35 * max(len(statuses), 1))
    ax = fig.add_subplot()
    for i, (name, s) in enumerate(statuses.items()):
        start = local_date(s.captured)  # calendar days in Copenhagen, as the rules count them
        end = s.stale_on or local_date(now)
        width = max((end - start).days, 1)
        ax.barh(i, width, left=_num(start), color=_COLOURS[s.status], alpha=0.8)
        ax.text(_num(start), i, f" {name} ({s.status})", va="center", fontsize=7)
    ax.axvline(_num(local_date(now)), color="k", ls="--", lw=1)
    ax.xaxis_date()
    ax.set_yticks([])
    ax.set_title("freshness: capture → stale date (dashed: now)")
    return _png(fig)
