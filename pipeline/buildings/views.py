"""Several thermal views of one flight: each building is measured on the nearest-to-nadir view covering it.

The rule (``dronegis process`` without a thermal mosaic, on the georeferenced thermal frames):
views are tried in order of their off-nadir angle (unknown angles last, then by file name). A
building takes the first view whose valid cells cover at least
:attr:`~pipeline.buildings.models.ReliabilityRule.limited_coverage` (90 %) of its footprint;
when no view does, the view covering the most of it (ties: the nearer to nadir); a building no
view sees keeps the first view's empty figures. Each building records its view
(``Building.thermal``, ``Building.view_angle_deg``), and its card crops that raster. Scores,
classes and ranks are computed afterwards over all buildings together, as for one raster.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from core.errors import RasterInputError
from core.models import Frozen
from pipeline.buildings.models import Building, BuildingsConfig
from pipeline.buildings.stage import Measured, measure

logger = logging.getLogger(__name__)


class ThermalView(Frozen):
    """One °C raster of the flight and the off-nadir angle it was seen from (None: unknown)."""

    raster: Path
    view_angle_deg: float | None = None


def view_order(views: Sequence[ThermalView]) -> list[ThermalView]:
    """Nearest to nadir first; unknown angles last; ties by file name (reproducible)."""
    return sorted(
        views, key=lambda v: (v.view_angle_deg is None, v.view_angle_deg or 0.0, v.raster.name, str(v.raster))
    )


def choose(candidates: Sequence[Building], enough: float) -> Building:
    """The building's figures from the first view covering ``enough`` of it, else the best-covering one."""
    for building in candidates:
        if building.stats.coverage >= enough:
            return building
    best = max(range(len(candidates)), key=lambda i: (candidates[i].stats.coverage, -i))
    return candidates[best]


def measure_views(config: BuildingsConfig, views: Sequence[ThermalView]) -> Measured:
    """Every footprint over its nearest-to-nadir covering view (``config.thermal`` is ignored).

    A view whose raster is not °C is left out (logged); the others go on.

    Raises:
        RasterInputError: no view could be read as a °C raster.
        PolygonLayerError: the footprints cannot be read or hold no usable polygon.
    """
    measured: list[Measured] = []
    refused: list[str] = []
    for view in view_order(views):
        flight = config.flight.model_copy(update={"view_angle_deg": view.view_angle_deg})
        try:
            measured.append(measure(config.model_copy(update={"thermal": view.raster, "flight": flight})))
        except RasterInputError as exc:
            logger.warning("buildings: view %s left out: %s", view.raster, exc)
            refused.append(str(exc))
    if not measured:
        raise RasterInputError(
            f"no usable thermal view of {len(views)}: {'; '.join(refused) or 'none given'}"
        )
    first = measured[0]
    enough = config.reliability.limited_coverage
    buildings = [
        choose(list(per_view), enough) for per_view in zip(*(m.buildings for m in measured), strict=True)
    ]
    used = sorted({str(b.thermal) for b in buildings if b.stats.valid_count})
    logger.info("buildings: %d views, %d used: %s", len(measured), len(used), ", ".join(used))
    return first._replace(buildings=buildings)
