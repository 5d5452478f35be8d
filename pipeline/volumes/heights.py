"""The vertical datum check of a volume run: DSM and base raster in one datum, DVR90 where possible.

Each raster's datum is read from what the pipeline wrote (the ``DRONEGIS_HEIGHT_DATUM``
tag of a processed DSM/DTM) or else from its own CRS (a compound CRS naming DVR90, or a
3D CRS with ellipsoidal heights); a raster stating neither is *unknown*.

- Plane, lowest and average bases come from the DSM itself, so any datum is consistent;
  the run is labelled with the DSM's datum.
- A base raster in the same datum as the DSM: fine. One of them unknown: measured,
  with a note that the datums could not be compared. Both known and different: refused
  with a message naming both files and datums — a DVR90 surface against an ellipsoidal
  one is 36-42 m off in Denmark, which no volume survives.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyproj
import rasterio
from affine import Affine
from numpy.typing import NDArray
from rasterio.io import DatasetReader

from core.errors import VolumeError
from pipeline.models import HeightDatum
from pipeline.volumes.models import BaseMethod, VolumeConfig

DATUM_TAG = "DRONEGIS_HEIGHT_DATUM"


class HeightCheck(NamedTuple):
    """The outcome of the datum check: the label of the heights measured and what was noted."""

    label: str
    notes: tuple[str, ...] = ()

    def apply(
        self, dsm: NDArray[np.float64], base: NDArray[np.float64] | None, transform: Affine
    ) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
        """The DSM and base heights of one window in the run's datum (unchanged: no conversion here)."""
        return dsm, base


def raster_datum(dataset: DatasetReader) -> HeightDatum:
    """The vertical datum a raster states: the pipeline's tag, else its CRS; unknown when neither says."""
    tagged = dataset.tags().get(DATUM_TAG)
    if tagged:
        try:
            return HeightDatum(tagged)
        except ValueError:
            return HeightDatum.UNKNOWN
    if dataset.crs is None:
        return HeightDatum.UNKNOWN
    crs = pyproj.CRS.from_user_input(dataset.crs)
    if crs.is_compound:
        return HeightDatum.DVR90 if "DVR90" in crs.sub_crs_list[1].name else HeightDatum.UNKNOWN
    if len(crs.axis_info) == 3:
        return HeightDatum.ELLIPSOIDAL
    return HeightDatum.UNKNOWN


def check_heights(config: VolumeConfig, dsm: DatasetReader) -> HeightCheck:
    """The datum of the run's heights, after checking the base raster against the DSM.

    Raises:
        VolumeError: the DSM and the base raster state different vertical datums.
    """
    own = raster_datum(dsm)
    if config.base is not BaseMethod.SURFACE or config.base_dem is None:
        return HeightCheck(own.value)
    with rasterio.open(config.base_dem) as base_ds:
        other = raster_datum(base_ds)
    known = (HeightDatum.DVR90, HeightDatum.ELLIPSOIDAL)
    if own in known and other in known and own is not other:
        raise VolumeError(
            f"DSM {config.dsm} has heights in {own.value} but base raster {config.base_dem} in "
            f"{other.value}; a volume between them would be off by the geoid height (36-42 m in Denmark). "
            "Convert one of them (dronegis process converts ellipsoidal heights to DVR90 with the DVR90 grid)"
        )
    notes: tuple[str, ...] = ()
    if own is HeightDatum.UNKNOWN or other is HeightDatum.UNKNOWN:
        notes = (
            f"vertical datum not stated by {'the DSM' if own is HeightDatum.UNKNOWN else 'the base raster'}; "
            "DSM and base raster assumed to share one datum",
        )
    label = own.value if own is not HeightDatum.UNKNOWN else other.value
    return HeightCheck(label, notes)
