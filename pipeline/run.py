"""One run of the ``process`` stage, as every sub-stage sees it: what was asked, what exists, where work runs.

:class:`ProcessConfig` is what a caller chooses (the CLI's options, the service's job options);
:class:`ProcessRun` adds the flight, the products of the previous run, the executor and, once the
thermal sub-stage has run, its result. Both are frozen: a sub-stage reads the run and returns a
:class:`StageOutput` (its products and the inputs it had to skip); :func:`pipeline.process.process_flight`
collects the outputs in a fixed order and alone writes ``products.json``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import Field

from core.errors import DroneGisError, UsageError
from core.models import Frozen
from core.workspace import Workspace
from flights.models import Flight
from pipeline.executors import Executor, SerialExecutor
from pipeline.models import Product, ProductKind, Skipped, ThermalOverrides
from pipeline.models.georef import DEFAULT_MAX_RANGE_M
from pipeline.thermal.stage import ThermalStageResult

STAGES: tuple[str, ...] = (
    "rasters", "thermal", "frames", "gcp", "mosaic", "layers", "buildings", "vegetation", "change", "volumes",
    "roofs",
)  # fmt: skip
ALIASES = {"georeference": "rasters", "process": "rasters"}
#: Part of every product signature: a new version recomputes every product.
VERSION = "1"
Progress = Callable[[int, int], None]


def resolve_stage(from_stage: str | None) -> frozenset[str]:
    """The sub-stages forced by ``--from`` (none: rerun only what is out of date).

    Raises:
        UsageError: unknown stage name.
    """
    if from_stage is None:
        return frozenset()
    name = ALIASES.get(from_stage, from_stage)
    if name not in STAGES:
        raise UsageError(
            f"unknown stage {from_stage!r}; expected one of {', '.join(STAGES)} (or georeference)"
        )
    return frozenset(STAGES[STAGES.index(name) :])


class ProcessConfig(Frozen):
    """What a caller of the ``process`` stage chooses.

    Attributes:
        target_crs: CRS of every product.
        transformation: PROJ operation from the delivered rasters' CRS to ``target_crs``.
        grids: folder with the DVR90 PROJ grids.
        dem: ground for single frames (any CRS); None: a plane at take-off elevation.
        from_stage: force this sub-stage and every later one (:data:`STAGES`).
        max_range: horizontal metres at which rays at/above the horizon are clipped.
        thermal_overrides: the flight's measurement parameters (stored in
            ``Workspace.thermal_overrides``); None reuses the stored ones.
        footprints: building footprints (any vector file and CRS) for the ``buildings`` and
            ``roofs`` sub-stages; None: no building analysis, no roofs.
        footprints_id_field: the footprints' id attribute (None: found among the usual names).
        air_temp_c: air temperature logged during the flight (°C), for the buildings' excess
            over air; None: the flight's thermal parameters' atmospheric temperature, if any.
        volume_polygons: polygons (any vector file and CRS) whose cut/fill the ``volumes``
            sub-stage measures on each DSM of the flight; None: no volumes.
        volume_base: the base of the volumes (plane fitted along the boundary, lowest, average,
            or ``surface``: the raster ``volume_base_dem``).
        volume_base_dem: base surface raster (a DTM, an earlier DSM) for ``volume_base=surface``.
        volume_rmse_v_m: the DSM's vertical RMSE (the CLI reads the flight's QA report: ASPRS
            RMSE_V); None: unknown, and the volumes say so.
        volume_bias_v_m: its systematic part (QA mean error); the random part is the rest.
        volume_error_source: where the two figures come from (named in the volume records).
    """

    target_crs: str = "EPSG:25832"
    transformation: str | None = None
    grids: Path | None = None
    dem: Path | None = None
    from_stage: str | None = None
    max_range: float = Field(DEFAULT_MAX_RANGE_M, gt=0)
    thermal_overrides: ThermalOverrides | None = None
    footprints: Path | None = None
    footprints_id_field: str | None = None
    air_temp_c: float | None = None
    volume_polygons: Path | None = None
    volume_base: Literal["plane", "lowest", "average", "surface"] = "plane"
    volume_base_dem: Path | None = None
    volume_rmse_v_m: float | None = Field(None, ge=0)
    volume_bias_v_m: float = 0.0
    volume_error_source: str | None = None


class StageOutput(NamedTuple):
    """What one sub-stage produced (in its fixed order) and the inputs it skipped, with the reason."""

    products: tuple[Product, ...] = ()
    skipped: tuple[Skipped, ...] = ()


log = logging.getLogger(__name__)


def each_dsm(
    run: ProcessRun,
    products: Mapping[str, Product],
    stage: str,
    source: Path,
    measure: Callable[[Product], list[Product]],
) -> StageOutput:
    """``measure`` every DSM product of the flight (by id) for an analysis sub-stage reading ``source``.

    A flight without a DSM is skipped with the reason (naming ``source``); a DSM that ``measure``
    cannot use (a :class:`~core.errors.DroneGisError` or OSError) is skipped with its reason and the
    other DSMs go on.
    """
    dsms = sorted((p for p in products.values() if p.kind is ProductKind.DSM), key=lambda p: p.id)
    if not dsms:
        why = f"flyvningen har ingen overflademodel (DSM) / the flight has no DSM product for {stage}"
        log.warning("%s: %s skipped: %s", run.flight.id, stage, why)
        return StageOutput(skipped=(Skipped(file=str(source), reason=f"{stage}: {why}"),))
    made: list[Product] = []
    skipped: list[Skipped] = []
    for dsm in dsms:
        try:
            made.extend(measure(dsm))
        except (DroneGisError, OSError) as exc:
            log.warning("%s: %s on %s skipped: %s", run.flight.id, stage, dsm.path, exc)
            skipped.append(Skipped(file=dsm.path, reason=f"{stage}: {exc}"))
    return StageOutput(tuple(made), tuple(skipped))


@dataclass(frozen=True)
class ProcessRun:
    """The run every sub-stage reads (frozen: sub-stages return what they made).

    Attributes:
        workspace: the workspace holding the ingested flight.
        flight: the ingested flight.
        config: what the caller chose.
        previous: the products of the previous run, by id (reused when their signature holds).
        executor: where per-frame and per-window tasks run.
        progress: called with (done, total) per frame.
        thermal: the thermal sub-stage's result, once it has run.
    """

    workspace: Workspace
    flight: Flight
    config: ProcessConfig
    previous: Mapping[str, Product] = field(default_factory=dict)
    executor: Executor = field(default_factory=SerialExecutor)
    progress: Progress | None = None
    thermal: ThermalStageResult | None = None

    @property
    def forced(self) -> frozenset[str]:
        """The sub-stages to redo whatever their signatures say."""
        return resolve_stage(self.config.from_stage)

    @property
    def target_crs(self) -> str:
        """CRS of every product."""
        return self.config.target_crs

    @property
    def dem(self) -> Path | None:
        """The ground model for single frames, as an absolute path."""
        return Path(self.config.dem).resolve() if self.config.dem else None

    @property
    def grids(self) -> Path | None:
        """Folder of the DVR90 PROJ grids."""
        return self.config.grids

    @property
    def max_range(self) -> float:
        """Horizontal metres at which rays at or above the horizon are clipped."""
        return self.config.max_range

    def rel(self, path: Path) -> str:
        """``path`` relative to the workspace root (as products record it)."""
        return path.resolve().relative_to(self.workspace.root).as_posix()

    def signature(self, *parts: object) -> str:
        """What a product depends on: the run's options, :data:`VERSION` and ``parts``."""
        options = [VERSION, self.target_crs, self.config.transformation, str(self.dem), self.max_range]
        text = json.dumps([*options, *parts], default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def reusable(self, product_id: str, signature: str, stage: str) -> Product | None:
        """The previous run's product when its signature holds, its file exists and ``stage`` is unforced."""
        old = self.previous.get(product_id)
        if stage in self.forced or old is None or old.signature != signature:
            return None
        return old if (self.workspace.root / old.path).exists() else None
