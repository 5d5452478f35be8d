"""Cloud Optimized GeoTIFF profiles, writing and validation (REFERENCE.md §7.1).

A *profile* names everything that depends on the kind of data: compression, block
size, the resampling of the overviews and of a reprojection, and the nodata value.
``COG_PROFILES`` is an immutable registry in the spirit of rio-cogeo's
``cog_profiles``: :meth:`CogProfiles.get` returns a copy, :meth:`CogProfiles.register`
returns a new registry.

Writing goes through GDAL's COG driver (via rasterio). GDAL's own overview generation
inside the COG driver is slow on large rasters, so :func:`write_cog` first builds
the overviews into a scratch copy (an external ``.ovr`` of a VRT, never the input) and
lets the COG driver reuse them; memory stays bounded by ``cache_mb``.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from pydantic import Field
from rasterio._err import CPLE_BaseError  # what GDAL errors surface as
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError

from core.atomic import TMP_SUFFIX, atomic_path, scratch_path
from core.errors import RasterWriteError, UsageError
from core.models import Frozen
from pipeline.models import ProductKind

log = logging.getLogger(__name__)

#: Rasters with more pixels than this get their overviews built outside the COG driver.
PREBUILD_OVERVIEWS_ABOVE = 4096 * 4096


class CogProfile(Frozen):
    """How one kind of raster is written as a COG."""

    name: str
    description: str
    creation_options: dict[str, str] = Field(description="GDAL COG driver creation options")
    warp_resampling: str = Field(description="rasterio Resampling name used when reprojecting")
    overview_resampling: str = Field(description="rasterio Resampling name used for overviews")
    dtype: str | None = Field(None, description="output data type, None keeps the input's")
    nodata: float | None = Field(None, description="nodata written when the input has none")
    mask: bool = Field(False, description="invalid pixels go into an internal mask (lossy codecs)")
    units: str | None = None


def _profile(name: str, description: str, options: dict[str, str], **kwargs: object) -> CogProfile:
    base = {"BLOCKSIZE": "512", "BIGTIFF": "IF_SAFER"}
    return CogProfile(name=name, description=description, creation_options=base | options, **kwargs)


_DEFAULTS: dict[str, CogProfile] = {
    p.name: p
    for p in (
        _profile(
            "ortho_jpeg",
            "RGB(A) orthophoto: JPEG q85 in YCbCr, alpha/nodata as an internal mask",
            {"COMPRESS": "JPEG", "QUALITY": "85"},
            warp_resampling="bilinear",
            overview_resampling="cubic",
            dtype="uint8",
            mask=True,
        ),
        _profile(
            "ortho_webp",
            "RGB(A) orthophoto: WEBP q85, alpha kept",
            {"COMPRESS": "WEBP", "QUALITY": "85"},
            warp_resampling="bilinear",
            overview_resampling="cubic",
            dtype="uint8",
            mask=True,
        ),
        _profile(
            "dsm_f32",
            "DSM/DTM heights in metres: float32, DEFLATE with floating-point predictor",
            {"COMPRESS": "DEFLATE", "PREDICTOR": "YES", "LEVEL": "6"},
            warp_resampling="bilinear",
            overview_resampling="average",
            dtype="float32",
            nodata=-9999.0,
            units="m",
        ),
        _profile(
            "thermal_f32",
            "Thermal temperatures in °C: float32, DEFLATE with floating-point predictor",
            {"COMPRESS": "DEFLATE", "PREDICTOR": "YES", "LEVEL": "6"},
            warp_resampling="bilinear",
            overview_resampling="average",
            dtype="float32",
            nodata=-9999.0,
            units="°C",
        ),
        _profile(
            "analysis_f32",
            "Analysis values (vegetation index, change): float32, nodata -9999, DEFLATE, float predictor",
            # DEFLATE level 1: on float32 indices level 6 saved < 1 % for 1.4x the time (10k ExG: 297 vs
            # 295 MB, 22 vs 16 s); ZSTD would be faster still but not every desktop GIS reads it
            {"COMPRESS": "DEFLATE", "PREDICTOR": "YES", "LEVEL": "1"},
            warp_resampling="bilinear",
            overview_resampling="average",
            dtype="float32",
            nodata=-9999.0,
        ),
        _profile(
            "cutfill_f32",
            "DSM − base in metres (+ cut, − fill): float32, ZSTD level 1 with the floating-point "
            "predictor (same size as DEFLATE here, 2.4× less CPU to write)",
            {"COMPRESS": "ZSTD", "LEVEL": "1", "PREDICTOR": "YES"},
            warp_resampling="bilinear",
            overview_resampling="average",
            dtype="float32",
            nodata=-9999.0,
            units="m",
        ),
        _profile(
            "classes",
            "Class or label rasters: lossless, nearest everywhere",
            {"COMPRESS": "DEFLATE", "PREDICTOR": "YES"},
            warp_resampling="nearest",
            overview_resampling="nearest",
        ),
    )
}


class CogProfiles:
    """An immutable registry of named :class:`CogProfile` objects."""

    def __init__(self, profiles: Mapping[str, CogProfile]) -> None:
        self._profiles: Mapping[str, CogProfile] = MappingProxyType(dict(profiles))

    def get(self, name: str) -> CogProfile:
        """A copy of the profile called ``name``.

        Raises:
            UsageError: no profile has that name.
        """
        try:
            return self._profiles[name].model_copy(deep=True)
        except KeyError:
            raise UsageError(f"unknown COG profile {name!r}; known: {', '.join(self.names)}") from None

    def register(self, profile: CogProfile) -> CogProfiles:
        """A new registry that also holds ``profile`` (replacing one of the same name)."""
        return CogProfiles({**self._profiles, profile.name: profile})

    @property
    def names(self) -> tuple[str, ...]:
        """Every registered name, sorted."""
        return tuple(sorted(self._profiles))

    def __contains__(self, name: object) -> bool:
        return name in self._profiles


COG_PROFILES = CogProfiles(_DEFAULTS)

#: The profile of each kind of raster product; anything else is written losslessly (``classes``).
PROFILE_FOR_KIND: Mapping[ProductKind, str] = MappingProxyType(
    {
        ProductKind.ORTHOPHOTO: "ortho_jpeg",
        ProductKind.RGB_FRAME: "ortho_jpeg",
        ProductKind.DSM: "dsm_f32",
        ProductKind.DTM: "dsm_f32",
        ProductKind.THERMAL_FRAME: "thermal_f32",
        ProductKind.THERMAL_MOSAIC: "thermal_f32",
        ProductKind.VEGETATION_INDEX: "analysis_f32",
        ProductKind.CHANGE_MAP: "analysis_f32",
        ProductKind.CUT_FILL: "cutfill_f32",
    }
)


def profile_for(kind: ProductKind) -> str:
    """The COG profile name of a product kind (:data:`PROFILE_FOR_KIND`, else ``classes``)."""
    return PROFILE_FOR_KIND.get(kind, "classes")


class CogValidation(Frozen):
    """Result of validating a file as a Cloud Optimized GeoTIFF (rio-cogeo rules)."""

    path: str
    valid: bool
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


#: Raised when GDAL cannot write a COG (alias of :class:`core.errors.RasterWriteError`).
CogWriteError = RasterWriteError


def validate_cog(path: Path | str, *, strict: bool = False) -> CogValidation:
    """Validate ``path`` with rio-cogeo's ``cog_validate`` (no terminal output)."""
    from rio_cogeo.cogeo import cog_validate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # validity does not need a CRS
        valid, errors, notes = cog_validate(str(path), strict=strict, quiet=True)
    return CogValidation(path=str(path), valid=valid, errors=tuple(errors), warnings=tuple(notes))


def resolve_profile(profile: str | CogProfile) -> CogProfile:
    """The profile object for a name or profile."""
    return COG_PROFILES.get(profile) if isinstance(profile, str) else profile


def overview_factors(width: int, height: int, blocksize: int = 512) -> list[int]:
    """Powers of two until the smallest overview fits in one block (GDAL's OVERVIEWS=AUTO rule)."""
    factors: list[int] = []
    factor = 2
    while max(width, height) / (factor // 2) > blocksize:
        factors.append(factor)
        factor *= 2
    return factors


def write_cog(
    src: Path | str,
    dst: Path,
    profile: str | CogProfile,
    *,
    crs: str | None = None,
    tags: Mapping[str, str] | None = None,
    alpha_band: int | None = None,
    num_threads: str = "ALL_CPUS",
    cache_mb: int = 256,
) -> Path:
    """Write the raster ``src`` (any GDAL-readable path) to ``dst`` as a COG, atomically.

    ``src`` is read through a scratch VRT beside ``dst`` (never modified): the VRT
    carries ``crs`` and ``tags`` and, for large rasters without overviews, an external
    ``.ovr`` built with the profile's resampling, which the COG driver then reuses
    (GDAL's in-driver overview generation is several times slower on large rasters).

    Args:
        src: a georeferenced raster, already in its final grid and data type.
        dst: the COG to write; replaced atomically.
        profile: a profile name of :data:`COG_PROFILES` or a :class:`CogProfile`.
        crs: assign this CRS (a relabel, no reprojection), e.g. for a world-file input.
        tags: dataset metadata written into the COG (transformation, height datum, ...).
        alpha_band: 1-based band to treat as alpha (becomes the mask under JPEG), for
            inputs whose alpha is not labelled as such (e.g. to keep overview building fast).
        num_threads: GDAL NUM_THREADS for compression and overviews.
        cache_mb: GDAL block cache for this call, MB; bounds the memory used.

    Returns:
        ``dst``.

    Raises:
        CogWriteError: GDAL failed.
    """
    prof = resolve_profile(profile)
    options = dict(prof.creation_options)
    options.setdefault("OVERVIEW_RESAMPLING", prof.overview_resampling.upper())
    options["NUM_THREADS"] = num_threads
    # an int GDAL_CACHEMAX is bytes to rasterio (GDALSetCacheMax64): 256 alone was a 256-byte cache
    env = rasterio.Env(
        GDAL_CACHEMAX=cache_mb << 20, GDAL_NUM_THREADS=num_threads, GDAL_TIFF_OVR_BLOCKSIZE=512
    )
    with env, atomic_path(dst) as tmp:
        try:
            with _scratch_vrt(Path(str(src)), tmp, prof, crs=crs, tags=tags, alpha_band=alpha_band) as source:
                rasterio.shutil.copy(source, tmp, driver="COG", **options)
        except (RasterioError, CPLE_BaseError) as exc:
            raise CogWriteError(f"cannot write COG {dst} from {src}: {exc}") from exc
    log.info("wrote COG %s (profile %s)", dst, prof.name)
    return dst


def write_cog_array(
    data: np.ndarray,
    dst: Path,
    profile: str | CogProfile,
    *,
    transform: Affine,
    crs: str,
    nodata: float | None = None,
    tags: Mapping[str, str] | None = None,
    cache_mb: int = 256,
) -> Path:
    """Write an in-memory array (bands, rows, cols) to ``dst`` as a COG, atomically.

    For frames and other rasters computed in memory. A 3-band uint8 array with a
    4th alpha band becomes JPEG + mask under ``ortho_jpeg``. ``nodata`` defaults to the
    profile's.

    Raises:
        UsageError: ``data`` is not 3-dimensional.
        CogWriteError: GDAL failed.
    """
    if data.ndim != 3:
        raise UsageError(f"write_cog_array({dst}): data must be (bands, rows, cols), got shape {data.shape}")
    prof = resolve_profile(profile)
    dtype = prof.dtype or str(data.dtype)
    count, height, width = data.shape
    value = nodata if nodata is not None else (None if prof.mask else prof.nodata)
    meta = {
        "driver": "GTiff", "width": width, "height": height, "count": count, "dtype": dtype, "crs": crs,
        "transform": transform, "nodata": value, "tiled": True, "blockxsize": 512, "blockysize": 512,
    }  # fmt: skip
    with scratch_path(dst, suffix=".tif") as name:
        with rasterio.open(name, "w", **meta) as scratch:
            scratch.write(data.astype(dtype, copy=False))
            if prof.mask and count in (2, 4):
                scratch.colorinterp = [*scratch.colorinterp[:-1], ColorInterp.alpha]
        return write_cog(name, dst, prof, tags=tags, cache_mb=cache_mb)


@contextlib.contextmanager
def _scratch_vrt(
    src: Path,
    near: Path,
    prof: CogProfile,
    *,
    crs: str | None,
    tags: Mapping[str, str] | None,
    alpha_band: int | None = None,
) -> Iterator[str]:
    """Yield a VRT of ``src`` with ``crs``, ``tags``, alpha and (if large) prebuilt overviews."""
    vrt = near.with_name(f"{near.name}.src{TMP_SUFFIX}")  # swept like every temporary
    try:
        rasterio.shutil.copy(src, vrt, driver="VRT")
        with rasterio.open(vrt, "r+") as dataset:
            if crs is not None:
                dataset.crs = crs
            if tags:
                dataset.update_tags(**tags)
            interp = list(dataset.colorinterp)
            if alpha_band is None and ColorInterp.alpha in interp:
                alpha_band = interp.index(ColorInterp.alpha) + 1
            big = dataset.width * dataset.height > PREBUILD_OVERVIEWS_ABOVE
            if big and not dataset.overviews(1):
                # every band on its own: GDAL's alpha-weighted overview resampling is ~2x slower
                dataset.colorinterp = [ColorInterp.undefined if c == ColorInterp.alpha else c for c in interp]
                factors = overview_factors(dataset.width, dataset.height)
                dataset.build_overviews(factors, Resampling[prof.overview_resampling])
            if alpha_band is not None:
                interp[alpha_band - 1] = ColorInterp.alpha
            dataset.colorinterp = interp
        yield str(vrt)
    finally:
        for leftover in (vrt, Path(f"{vrt}.ovr"), Path(f"{vrt}.aux.xml")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
