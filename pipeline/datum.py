"""Heights: ETRS89 ellipsoidal heights to DVR90 (EPSG:5799), never mislabelled.

REFERENCE.md §2.6. The DVR90 geoid grids (``dk_sdfi_dvr90_*.tif``) ship with neither
PyPI nor Debian. Without them PROJ *silently* falls back to a ballpark step that
leaves heights unchanged (about 37-40 m wrong in Denmark). The only reliable test is
``TransformerGroup(...).best_available``; this module makes that test and, when it
fails, labels the product ellipsoidal and emits :class:`EllipsoidalHeightWarning`.

The grid folder is always a parameter (the CLI passes ``Settings.proj_grids``). It is
added to pyproj's search path with :func:`pyproj.datadir.append_data_dir`, which is
additive and process-wide; ``PROJ_DATA``/``PROJ_LIB`` are never touched (pointing them
at Debian's ``proj.db`` breaks rasterio, STACK.md §1). Height conversion runs in pyproj,
so GDAL never needs the grids.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyproj
import pyproj.datadir
from numpy.typing import NDArray
from pyproj.transformer import Transformer, TransformerGroup

from core.errors import EllipsoidalHeightWarning, UsageError
from pipeline.models import HeightDatum

log = logging.getLogger(__name__)

DVR90 = "EPSG:5799"


class HeightPlan(NamedTuple):
    """What happens to the height values of a raster in ``crs``."""

    datum: HeightDatum
    operation: str | None
    """Description and PROJ definition of the vertical operation, or None (no conversion)."""
    transformer: Transformer | None


def register_grids(folder: Path) -> None:
    """Add ``folder`` (holding PROJ grid files) to pyproj's data search path.

    Raises:
        UsageError: the folder does not exist or holds no ``.tif`` grid.
    """
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir() or not any(folder.glob("*.tif")):
        raise UsageError(f"PROJ grid folder {folder} does not exist or holds no .tif grids")
    current = pyproj.datadir.get_data_dir().split(os.pathsep)
    if str(folder) not in current:
        pyproj.datadir.append_data_dir(str(folder))
        log.info("added PROJ grid folder %s", folder)


def dvr90_transformer(horizontal_crs: str, grids: Path | None) -> Transformer | None:
    """The best ellipsoidal-to-DVR90 transformer for heights given in ``horizontal_crs``.

    The source is ``horizontal_crs`` made 3D (ETRS89 ellipsoidal height), the target
    ``horizontal_crs + DVR90``. Returns None when the grid-based operation is not
    available (no ``grids`` folder, or the folder lacks the grid PROJ wants).
    """
    if grids is None:
        return None
    register_grids(grids)
    source = pyproj.CRS(horizontal_crs).to_3d()
    target = pyproj.CRS.from_user_input(f"{horizontal_crs}+{DVR90.split(':')[1]}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyproj warns when the best op is missing
        group = TransformerGroup(source, target, always_xy=True)
    if not group.best_available or not group.transformers:
        return None
    best = group.transformers[0]
    if "ballpark" in best.description.lower():
        return None
    return best


def plan_heights(
    horizontal_crs: str,
    grids: Path | None,
    *,
    source_datum: HeightDatum = HeightDatum.ELLIPSOIDAL,
    name: str = "",
) -> HeightPlan:
    """Decide what the heights of a DSM/DTM in ``horizontal_crs`` become.

    Ellipsoidal heights become DVR90 when the grid is available; otherwise they stay
    ellipsoidal, are labelled so, and :class:`EllipsoidalHeightWarning` is emitted.
    Heights that are already DVR90 (or unknown) are passed through with their label.
    """
    if source_datum is not HeightDatum.ELLIPSOIDAL:
        return HeightPlan(source_datum, None, None)
    transformer = dvr90_transformer(horizontal_crs, grids)
    if transformer is None:
        where = f"{grids}" if grids else "no grid folder given"
        warnings.warn(
            f"{name or 'heights'}: DVR90 grid not available ({where}); heights stay ellipsoidal "
            "(ETRS89) and are labelled so",
            EllipsoidalHeightWarning,
            stacklevel=2,
        )
        return HeightPlan(HeightDatum.ELLIPSOIDAL, None, None)
    operation = f"{transformer.description} [{transformer.definition}]"
    return HeightPlan(HeightDatum.DVR90, operation, transformer)


def to_dvr90(
    transformer: Transformer,
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
    heights: NDArray[np.floating],
) -> NDArray[np.float64]:
    """Ellipsoidal heights at (xs, ys) converted with ``transformer`` (pure computation).

    Raises:
        UsageError: a height falls outside the grid (PROJ returns inf there).
    """
    _, _, out = transformer.transform(xs, ys, np.asarray(heights, dtype=np.float64))
    result = np.asarray(out, dtype=np.float64)
    if not np.all(np.isfinite(result[np.isfinite(heights)])):
        raise UsageError("some heights lie outside the DVR90 grid (Denmark); cannot convert them")
    return result


def geoid_offsets(
    transformer: Transformer, xs: NDArray[np.float64], ys: NDArray[np.float64]
) -> NDArray[np.float64]:
    """DVR90 minus ellipsoidal height at (xs, ys): the value to add to each height."""
    zeros = np.zeros(np.broadcast(xs, ys).shape, dtype=np.float64)
    return to_dvr90(transformer, xs, ys, zeros)
