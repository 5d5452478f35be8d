"""WMS time series: one layer per vegetation index of a place flown more than once, TIME picks the flight.

Every published index layer keeps its own WMS layer with its capture time as ``time`` Dimension
(:mod:`webgis_export.ogc.wms_time`). Where the same index of the same place was published for
two or more flights — layers of :attr:`~pipeline.models.ProductKind.VEGETATION_INDEX` with the
same index (the style's title) whose WGS84 extents meet, chained flight by flight — a series
layer is added: named ``<earliest member id>-series``, titled ``Vegetationsindeks ExG, tidsserie /
time series``, its extent the union of the members', and its ``time`` Dimension the list of the
members' capture times (``t1,t2,…``, ``default`` the latest, ``multipleValues="0"``,
``nearestValue="0"``). GetMap, GetFeatureInfo and GetLegendGraphic of the series draw the
member whose capture ``TIME`` meets (the latest of those when several do; the latest flight
when ``TIME`` is absent); a ``TIME`` meeting no flight is ``InvalidDimensionValue``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from core.i18n import text
from pipeline.models import ProductKind
from webgis_export.models import Layer
from webgis_export.ogc.exceptions import OgcError
from webgis_export.ogc.wms_time import dimension_default, layer_span, parse_time

SERIES_KINDS = frozenset({ProductKind.VEGETATION_INDEX})
SUFFIX = "-series"


class Series(NamedTuple):
    """Index layers of one place, oldest capture first."""

    id: str
    members: tuple[Layer, ...]

    @property
    def latest(self) -> Layer:
        """The most recent flight."""
        return self.members[-1]


def _meets(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def series_of(layers: Sequence[Layer]) -> list[Series]:
    """The series among ``layers``: per index, layers whose extents meet, from two flights on."""
    dated = [layer for layer in layers if layer.kind in SERIES_KINDS and layer_span(layer) is not None]
    dated.sort(key=lambda layer: (layer_span(layer), layer.id))
    groups: list[list[Layer]] = []
    for layer in dated:
        home = next(
            (
                group
                for group in groups
                if group[0].style.title == layer.style.title
                and any(_meets(m.bounds_wgs84, layer.bounds_wgs84) for m in group)
            ),
            None,
        )
        if home is None:
            groups.append([layer])
        else:
            home.append(layer)
    flown_twice = [group for group in groups if len({m.flight for m in group}) > 1]
    return [Series(f"{group[0].id}{SUFFIX}", tuple(group)) for group in flown_twice]


def find_series(layers: Sequence[Layer], layer_id: str) -> Series | None:
    """The series named ``layer_id`` among ``layers``, if any."""
    if not layer_id.endswith(SUFFIX):
        return None
    return next((s for s in series_of(layers) if s.id == layer_id), None)


def pick(series: Series, value: str | None) -> Layer:
    """The member a request's ``TIME`` selects (the latest flight without one).

    Raises:
        OgcError: ``InvalidDimensionValue`` when ``TIME`` is malformed or meets no flight.
    """
    if not value:
        return series.latest
    asked = parse_time(value)
    hits = [m for m in series.members if any(span.meets(layer_span(m)) for span in asked)]  # type: ignore[arg-type]
    if not hits:
        raise OgcError(
            "InvalidDimensionValue",
            f"TIME={value!r} meets no flight of layer {series.id} ({dimension_values(series)})",
            "TIME",
        )
    return hits[-1]


def dimension_values(series: Series) -> str:
    """The Dimension extent: every member's capture time, oldest first."""
    return ",".join(dict.fromkeys(str(dimension_default(m)) for m in series.members))


def _union(boxes: Sequence[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    lows, highs = [min(b[i] for b in boxes) for i in (0, 1)], [max(b[i] for b in boxes) for i in (2, 3)]
    return (lows[0], lows[1], highs[0], highs[1])


def series_layer(series: Series) -> Layer:
    """A stand-in layer for the capabilities: the latest member, renamed, over the members' union."""
    union = _union([m.bounds_wgs84 for m in series.members])
    latest = series.latest
    own = [m.bounds for m in series.members] if all(m.crs == latest.crs for m in series.members) else []
    bounds = _union(own) if own else latest.bounds
    title = " / ".join(
        text("wms.series", lang, kind=text("kind.vegetation_index", lang), name=latest.style.title,
             count=len(series.members))
        for lang in ("da", "en")
    )  # fmt: skip
    update = {"id": series.id, "title": title, "bounds_wgs84": union, "bounds": bounds}
    return latest.model_copy(update=update)
