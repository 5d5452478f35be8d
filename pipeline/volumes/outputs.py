"""The files of a volume run: cut/fill COG + legend, GeoPackage, CSV (Danish, English), JSON, HTML."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.atomic import atomic_write_text
from pipeline.volumes.cutfill import COLORMAP, CutFillWriter, legend_png, legend_range
from pipeline.volumes.models import PolygonVolume, VolumeConfig, VolumeRun
from pipeline.volumes.report import write_report
from pipeline.volumes.tables import Cell, Column, attribute_table, write_csv_pair, write_gpkg
from pipeline.zonal import PolygonLayer

if TYPE_CHECKING:
    import geopandas as gpd

FILES = {
    "cutfill": "cutfill.tif",
    "legend": "cutfill_legend.png",
    "gpkg": "volumes.gpkg",
    "csv": "volumes.csv",
    "csv_en": "volumes_en.csv",
    "json": "volumes.json",
    "html": "volumes.html",
}
"""Output kind → file name inside the run's folder."""
LAYER = "volumes"


def _uncertainty(name: str) -> Callable[[PolygonVolume], Cell]:
    return lambda p: None if p.uncertainty is None else float(getattr(p.uncertainty, name))


def _base(name: str) -> Callable[[PolygonVolume], Cell]:
    return lambda p: None if p.base is None else getattr(p.base, name)


def _balance(net_m3: float | None) -> str | None:
    """``cut`` when more is above the base than below (net > 0), ``fill`` when less, ``balanced`` at 0."""
    if net_m3 is None:
        return None
    return "cut" if net_m3 > 0 else "fill" if net_m3 < 0 else "balanced"


def _field(name: str) -> Callable[[PolygonVolume], Cell]:
    return lambda p: getattr(p, name)


VOLUME_COLUMNS: tuple[Column, ...] = (
    Column("Id", "id", _field("id")),
    Column("Status", "status", lambda p: p.status.value),
    Column("Basis", "base", lambda p: None if p.base is None else p.base.method.value),
    Column("Afgravning (m³)", "cut_m3", _field("cut_m3"), 2),
    Column("Opfyldning (m³)", "fill_m3", _field("fill_m3"), 2),
    Column("Netto (m³)", "net_m3", _field("net_m3"), 2),
    Column("Balance", "balance", lambda p: _balance(p.net_m3)),
    Column("Usikkerhed 95 % (m³)", "uncertainty95_m3", _uncertainty("total95_m3"), 2),
    Column("Usikkerhed 1σ (m³)", "uncertainty_m3", _uncertainty("total_m3"), 2),
    Column("heraf bias (m³)", "uncertainty_bias_m3", _uncertainty("bias_m3"), 2),
    Column("heraf tilfældig (m³)", "uncertainty_random_m3", _uncertainty("random_m3"), 2),
    Column("heraf basis (m³)", "uncertainty_base_m3", _uncertainty("base_m3"), 2),
    Column("heraf cellestørrelse (m³)", "uncertainty_cell_m3", _uncertainty("cell_m3"), 2),
    Column("Areal 2D (m²)", "area_2d_m2", _field("area_2d_m2"), 2),
    Column("Areal 3D (m²)", "area_3d_m2", _field("area_3d_m2"), 2),
    Column("Polygonareal (m²)", "polygon_area_m2", _field("polygon_area_m2"), 2),
    Column("Dækning (%)", "coverage_pct", lambda p: None if p.coverage is None else 100.0 * p.coverage, 1),
    Column("Maks. højde (m)", "max_height_m", _field("max_height_m"), 3),
    Column("Middelhøjde (m)", "mean_height_m", _field("mean_height_m"), 3),
    Column("Maks. dybde (m)", "max_depth_m", _field("max_depth_m"), 3),
    Column("Middeldybde (m)", "mean_depth_m", _field("mean_depth_m"), 3),
    Column("Basishøjde (m)", "base_height_m", _base("height_m"), 3),
    Column("Basishældning (°)", "base_slope_deg", _base("slope_deg"), 2),
    Column("Basis hældningsretning (°)", "base_aspect_deg", _base("aspect_deg"), 1),
    Column("Basis RMSE (m)", "base_rmse_m", _base("residual_rmse_m"), 3),
    Column("Basis maks. afvigelse (m)", "base_max_residual_m", _base("residual_max_m"), 3),
    Column("Randceller", "boundary_cells", _base("boundary_cells")),
    Column("Randceller brugt", "boundary_cells_used", _base("cells_used")),
    Column("Celler", "cells", _field("cells")),
    Column("Celler med data", "valid_cells", _field("valid_cells")),
    Column("Bemærkninger", "problems", lambda p: "; ".join(p.problems)),
)
"""The columns of the CSV files and the GeoPackage (English names are the GeoPackage fields)."""


def volume_frame(run: VolumeRun, layer: PolygonLayer, out_crs: str) -> gpd.GeoDataFrame:
    """The polygons (in ``out_crs``) with every figure of :data:`VOLUME_COLUMNS`."""
    import geopandas as gpd

    table = attribute_table(VOLUME_COLUMNS, run.polygons)
    geometry = gpd.GeoSeries([f.geometry for f in layer.features], crs=layer.crs).to_crs(out_crs)
    return gpd.GeoDataFrame(table, geometry=geometry, crs=out_crs)


def write_outputs(
    config: VolumeConfig,
    run: VolumeRun,
    layer: PolygonLayer,
    writer: CutFillWriter | None,
    p98s: Sequence[float],
) -> dict[str, str]:
    """Write every file of the run into ``config.out_dir``; kind → path of what was written."""
    assert config.out_dir is not None
    out = config.out_dir
    paths = {kind: out / name for kind, name in FILES.items()}
    written: dict[str, Path] = {}
    if writer is not None:
        vmax = legend_range(list(p98s))
        tags = {
            "DRONEGIS_KIND": "cutfill",
            "DRONEGIS_HEIGHT_DATUM": run.height_datum.value,
            "DRONEGIS_BASE": run.base.value,
            "DRONEGIS_COLORMAP": COLORMAP,
            "DRONEGIS_VMIN": f"{-vmax:g}",
            "DRONEGIS_VMAX": f"{vmax:g}",
        }
        written["cutfill"] = writer.finish(tags, config.cache_mb)
        written["legend"] = legend_png(paths["legend"], vmax)
    written["gpkg"] = write_gpkg(paths["gpkg"], {LAYER: volume_frame(run, layer, config.out_crs)})
    write_csv_pair(paths["csv"], paths["csv_en"], VOLUME_COLUMNS, run.polygons)
    written["csv"], written["csv_en"] = paths["csv"], paths["csv_en"]
    outputs = {
        kind: str(path) for kind, path in {**written, "json": paths["json"], "html": paths["html"]}.items()
    }
    final = run.model_copy(update={"outputs": outputs})
    atomic_write_text(paths["json"], final.model_dump_json(indent=2))
    write_report(paths["html"], final, written.get("cutfill"), written.get("legend"))
    return outputs
