"""The vegetation stage: index COGs of one orthophoto, computed window by window.

:func:`vegetation_indices` takes the orthophoto and a frozen :class:`VegetationConfig` and
writes one float32 COG per index (``<stem>_<index>.tif``; nodata −9999; the range of each index
in :mod:`pipeline.vegetation.indices`), each tagged with its index, formula, documented range,
bands, calibration and capture time (``DRONEGIS_TIME_START/END``, for WMS TIME). The same
function serves ``dronegis vegetation`` and, later, a stage of ``dronegis process``.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import rasterio
from numpy.typing import NDArray
from pydantic import Field
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window

from core.errors import RasterInputError
from core.models import Frozen
from pipeline.rasters.inputs import RasterInfo, open_raster
from pipeline.vegetation.bands import BandMap, identify_bands, parse_band_spec
from pipeline.vegetation.indices import INDICES, Band, IndexSpec, compute_index, index_spec
from pipeline.vegetation.raster import (
    NODATA,
    WINDOW,
    WORKERS,
    PerThread,
    RunningStats,
    blocks,
    capture_time,
    finish_cog,
    float_scratch,
    in_order,
    time_tags,
    to_nodata,
)
from pipeline.vegetation.reflectance import CALIBRATION_TEXT, Calibration

log = logging.getLogger(__name__)

CALIBRATION_TAG = "DRONEGIS_CALIBRATION"


class VegetationConfig(Frozen):
    """What to compute from an orthophoto, and where to write it."""

    out_dir: Path
    indices: tuple[str, ...] = Field((), description="index names; empty: every index the bands allow")
    bands: str | None = Field(
        None, description="camera filter (NRG) or pairs (red=3,nir=4); None: from metadata"
    )
    crs: str | None = Field(None, description="CRS of an input without one (world file without .prj)")
    calibration: Calibration | None = Field(None, description="None: the input's DRONEGIS_CALIBRATION tag")
    time_start: datetime | None = Field(None, description="capture start (UTC); None: from the input's tags")
    time_end: datetime | None = None
    window: int = WINDOW
    workers: int = Field(WORKERS, description="blocks computed at once (threads)")
    cache_mb: int = 256


class IndexProduct(Frozen):
    """One index COG written by the stage."""

    index: str
    path: Path
    formula: str
    value_range: tuple[float, float]
    display_range: tuple[float, float]
    nodata: float = NODATA
    calibration: Calibration
    stats: dict[str, float | int] = Field(description="count, min, max, mean, p2, p50, p98 of valid pixels")


class VegetationResult(Frozen):
    """What :func:`vegetation_indices` did for one orthophoto."""

    source: Path
    crs: str
    gsd_m: float
    bands: dict[Band, int]
    band_source: str
    calibration: Calibration
    calibration_text: tuple[str, str] = Field(description="(Danish, English)")
    time_start: datetime | None
    time_end: datetime | None
    time_source: str = Field(description="where the capture time came from (given, tags, ODM …, none)")
    products: tuple[IndexProduct, ...]
    warnings: tuple[str, ...] = ()


def _band_map(info: RasterInfo, src: rasterio.DatasetReader, spec: str | None) -> BandMap:
    if spec:
        return parse_band_spec(spec, info.band_count)
    wavelengths = []
    for b in range(1, src.count + 1):
        tags = {k.lower(): v for k, v in src.tags(b).items()}
        value = tags.get("centralwavelength") or tags.get("wavelength") or tags.get("central_wavelength")
        wavelengths.append(float(value) if value and value.replace(".", "", 1).isdigit() else None)
    return identify_bands(list(src.descriptions), [c.name for c in src.colorinterp], wavelengths, info.dtype)


def _choose(info: RasterInfo, band_map: BandMap, wanted: tuple[str, ...]) -> list[IndexSpec]:
    specs = (
        [index_spec(n) for n in wanted] if wanted else [s for s in INDICES.values() if band_map.has(s.bands)]
    )
    have = ", ".join(f"{b.value}={n}" for b, n in sorted(band_map.bands.items(), key=lambda kv: kv[1]))
    if not specs:
        raise RasterInputError(
            f"{info.path}: intet vegetationsindeks kan beregnes af dets bånd; angiv dem med --bands / "
            f"no vegetation index can be computed from its bands ({have or 'none identified'}); "
            "name them with --bands (e.g. RGB, NRG, red=3,nir=4)"
        )
    for spec in specs:
        missing = [b.value for b in spec.bands if b not in band_map.bands]
        if missing:
            raise RasterInputError(
                f"{info.path}: {spec.name} kræver bånd {', '.join(missing)}; angiv dem med --bands / "
                f"index {spec.name} needs band(s) {', '.join(missing)}; the raster has "
                f"{have or 'no identified band'} (from {band_map.source}); name them with --bands"
            )
    return specs


def _check_has_data(info: RasterInfo, src: rasterio.DatasetReader) -> None:
    """Refuse a raster whose mask is empty everywhere (checked on a decimated read)."""
    scale = max(1, max(info.width, info.height) // 1024)
    shape = (max(1, info.height // scale), max(1, info.width // scale))
    if not src.dataset_mask(out_shape=shape).any() and not src.dataset_mask().any():
        raise RasterInputError(
            f"{info.path}: alle pixler er uden data / every pixel is nodata (mask empty); nothing to compute"
        )


def vegetation_indices(ortho: Path, config: VegetationConfig) -> VegetationResult:
    """Write one index COG per requested (or possible) index of ``ortho``.

    Raises:
        GeoreferenceError: the input has no usable georeferencing.
        RasterInputError: bands missing for a requested index, or no valid pixel.
        UsageError: unknown index name or malformed band spec.
    """
    with rasterio.Env(GDAL_CACHEMAX=config.cache_mb << 20):  # bytes: rasterio passes it to GDALSetCacheMax64
        return _indices(Path(ortho), config)


def _indices(ortho: Path, config: VegetationConfig) -> VegetationResult:
    """The body of :func:`vegetation_indices` (GDAL's block cache held to ``config.cache_mb``)."""
    info = open_raster(Path(ortho), crs=config.crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        src = rasterio.open(info.path)
    with src:
        band_map = _band_map(info, src, config.bands)
        specs = _choose(info, band_map, config.indices)
        _check_has_data(info, src)
        calibration = config.calibration or Calibration(
            src.tags().get(CALIBRATION_TAG, Calibration.UNCALIBRATED)
        )
        start, end, time_source = (
            (config.time_start, config.time_end, "given")
            if config.time_start
            else capture_time(src, info.path)
        )
        notes = _notes(info, specs, calibration, start)
        plan = _Plan(info, band_map, specs, calibration, start, end, time_source)
        products = _write_indices(plan, config)
    return VegetationResult(
        source=info.path, crs=info.crs, gsd_m=info.resolution[0], bands=band_map.bands,
        band_source=band_map.source, calibration=calibration, calibration_text=CALIBRATION_TEXT[calibration],
        time_start=start, time_end=end or start, time_source=time_source, products=tuple(products),
        warnings=tuple(notes),
    )  # fmt: skip


def _notes(
    info: RasterInfo, specs: list[IndexSpec], calibration: Calibration, start: datetime | None
) -> list[str]:
    notes = []
    if start is None:
        notes.append(f"{info.path}: capture time unknown (no capture time in its metadata, none given)")
    if calibration is not Calibration.PANEL and calibration is not Calibration.IRRADIANCE:
        for spec in specs:
            if spec.needs_reflectance:
                notes.append(f"{spec.name} of {info.path} is on {calibration.value} values, not reflectance")
    for note in notes:
        log.warning("%s", note)
    return notes


def _read_bands(
    src: rasterio.DatasetReader, window: Window, band_map: BandMap, scale: float
) -> dict[Band, NDArray[np.float32]]:
    """The mapped bands of one window as float32 (scaled), NaN where the dataset mask is 0."""
    numbers = sorted(set(band_map.bands.values()))
    data = src.read(numbers, window=window, out_dtype="float32")
    if scale != 1.0:
        data *= np.float32(scale)
    invalid = src.dataset_mask(window=window) == 0
    if src.nodata is not None and not np.isnan(src.nodata):
        invalid |= (data == np.float32(src.nodata)).any(axis=0)
    data[:, invalid] = np.nan
    return {band: data[numbers.index(n)] for band, n in band_map.bands.items()}


class _Plan(NamedTuple):
    """Everything decided about one run before the pixels are read."""

    info: RasterInfo
    band_map: BandMap
    specs: list[IndexSpec]
    calibration: Calibration
    start: datetime | None
    end: datetime | None
    time_source: str


@contextlib.contextmanager
def _scratches(dsts: dict[str, Path], info: RasterInfo) -> Iterator[dict[str, rasterio.io.DatasetWriter]]:
    """One float scratch raster per index, all closed and removed on exit."""
    grid = {"width": info.width, "height": info.height, "transform": info.transform, "crs": info.crs}
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(float_scratch(dst, **grid)) for name, dst in dsts.items()}


def _open(path: Path) -> rasterio.DatasetReader:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        return rasterio.open(path)


def _write_indices(plan: _Plan, config: VegetationConfig) -> list[IndexProduct]:
    """Compute every index block by block into scratch rasters, then convert each into its COG."""
    info, specs = plan.info, plan.specs
    dtype = np.dtype(info.dtype)
    # ratios do not depend on scale; indices with an additive constant need values in [0, 1]
    integer = np.issubdtype(dtype, np.integer)
    scale = 1.0 / float(np.iinfo(dtype).max) if integer and any(s.needs_reflectance for s in specs) else 1.0
    dsts = {s.name: config.out_dir / f"{info.path.stem}_{s.name.lower()}.tif" for s in specs}
    stats = {s.name: RunningStats(s.vmin, s.vmax) for s in specs}

    with (
        _scratches(dsts, info) as sinks,
        PerThread(lambda: _open(info.path), lambda ds: ds.close(), config.workers) as readers,
    ):

        def job(window: Window) -> tuple[Window, dict[str, NDArray[np.float32]]]:
            bands = _read_bands(readers.get(), window, plan.band_map, scale)
            return window, {s.name: compute_index(s.name, bands) for s in specs}

        for window, values in in_order(job, blocks(info.width, info.height, config.window), config.workers):
            for name, array in values.items():
                stats[name].add(array)
                sinks[name].write(to_nodata(array), 1, window=window)
        if all(s.count == 0 for s in stats.values()):
            raise RasterInputError(
                f"{info.path}: ingen pixel har gyldige værdier i de brugte bånd / "
                "no pixel has valid values in the bands used; nothing written"
            )
        for sink in sinks.values():
            sink.close()
        return [
            _finish(s, sinks[s.name].name, dsts[s.name], stats[s.name], plan, config.cache_mb) for s in specs
        ]


def _finish(
    spec: IndexSpec, scratch: str, dst: Path, stats: RunningStats, plan: _Plan, cache_mb: int
) -> IndexProduct:
    bands = ",".join(f"{b.value}={plan.band_map.bands[b]}" for b in spec.bands)
    calibration = plan.calibration
    tags = {
        "DRONEGIS_INDEX": spec.name, "DRONEGIS_FORMULA": spec.formula,
        "DRONEGIS_RANGE": f"{spec.vmin:g} {spec.vmax:g}",
        "DRONEGIS_DISPLAY_RANGE": f"{spec.display[0]:g} {spec.display[1]:g}",
        "DRONEGIS_BANDS": bands, CALIBRATION_TAG: calibration.value,
        "DRONEGIS_CALIBRATION_TEXT": " / ".join(CALIBRATION_TEXT[calibration]),
        "DRONEGIS_SOURCE": plan.info.path.name, "DRONEGIS_UNITS": "index (unitless)",
        "DRONEGIS_TIME_SOURCE": plan.time_source, **time_tags(plan.start, plan.end),
    }  # fmt: skip
    finish_cog(scratch, dst, tags, cache_mb)
    return IndexProduct(
        index=spec.name, path=dst, formula=spec.formula, value_range=(spec.vmin, spec.vmax),
        display_range=spec.display, calibration=calibration, stats=stats.summary(),
    )  # fmt: skip
