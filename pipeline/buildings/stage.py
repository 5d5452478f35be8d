"""The buildings stage: footprints + a °C raster → ranked findings, GeoPackage, JSON and cards.

``buildings_stage(config)`` is what the command line calls today and what ``dronegis
process`` will call once footprints are configured (a frozen :class:`BuildingsConfig` in,
a frozen :class:`BuildingsReport` out).
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import rasterio
from pyproj import CRS

from core.errors import PolygonLayerError
from pipeline.buildings.analysis import USE_FIELDS, analyse, find_field
from pipeline.buildings.cards import write_cards
from pipeline.buildings.materials import MATERIAL_FIELDS
from pipeline.buildings.models import Building, BuildingsConfig, BuildingsReport
from pipeline.buildings.outputs import write_geopackage, write_json
from pipeline.buildings.raster import check_celsius
from pipeline.buildings.score import scored
from pipeline.zonal import ZonalSettings, read_polygons
from pipeline.zonal.polygons import crs_text
from pipeline.zonal.zonal import GDAL_CACHE_BYTES

logger = logging.getLogger(__name__)

GPKG_NAME = "buildings.gpkg"
JSON_NAME = "buildings.json"
CARDS_DIR = "cards"


class Measured(NamedTuple):
    """The unscored buildings of one or more °C rasters, and what the report says of the inputs."""

    buildings: list[Building]
    raster_crs: str
    cell_size_m: float
    use_field: str | None
    material_field: str | None


def measure(config: BuildingsConfig) -> Measured:
    """Every footprint over ``config.thermal`` (statistics, hot spots, reliability; no score yet).

    Raises:
        RasterInputError: the raster is not a single-band °C raster (RGB, 8-bit, kelvin …).
        PolygonLayerError: the footprints cannot be read or hold no usable polygon.
    """
    threads = ZonalSettings().read_threads
    with (
        rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES),
        rasterio.open(config.thermal, NUM_THREADS=threads) as dataset,
    ):
        check_celsius(dataset, str(config.thermal))
        raster_crs = CRS.from_user_input(dataset.crs.to_wkt())
        layer = read_polygons(config.footprints, id_field=config.id_field, crs=raster_crs, layer=config.layer)
        if not layer.usable:
            raise PolygonLayerError(f"footprints {config.footprints} hold no usable polygon")
        buildings = analyse(dataset, layer, config)
        cell_size = abs(dataset.transform.a * dataset.transform.e) ** 0.5
    return Measured(
        buildings,
        crs_text(raster_crs),
        cell_size,
        find_field(layer, USE_FIELDS),
        find_field(layer, MATERIAL_FIELDS),
    )


def buildings_stage(config: BuildingsConfig) -> BuildingsReport:
    """Analyse every footprint over the thermal raster and write the outputs into ``config.out_dir``.

    Raises:
        RasterInputError: the raster is not a single-band °C raster (RGB, 8-bit, kelvin …).
        PolygonLayerError: the footprints cannot be read or hold no usable polygon.
    """
    return write_report(config, measure(config))


def write_report(config: BuildingsConfig, measured: Measured) -> BuildingsReport:
    """Score and rank the measured buildings; write the GeoPackage, the JSON and the cards."""
    report = BuildingsReport(
        config=config,
        raster_crs=measured.raster_crs,
        cell_size_m=measured.cell_size_m,
        use_field=measured.use_field,
        material_field=measured.material_field,
        buildings=tuple(scored(measured.buildings, config.flight.air_temp_c, config.score)),
    )
    out = config.out_dir
    if config.cards:
        report = report.model_copy(update={"cards": write_cards(report, out / CARDS_DIR)})
    write_geopackage(report, out / GPKG_NAME)
    write_json(report, out / JSON_NAME)
    outputs = {"geopackage": out / GPKG_NAME, "json": out / JSON_NAME}
    if config.cards:
        outputs["cards"] = out / CARDS_DIR / "index.html"
    ranked = sum(b.rank is not None for b in report.buildings)
    logger.info("buildings: %d of %d ranked, written to %s", ranked, len(report.buildings), out)
    return report.model_copy(update={"outputs": outputs})
