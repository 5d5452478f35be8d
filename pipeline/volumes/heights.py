"""The vertical datum check of a volume run: DSM and base raster in one datum, DVR90 where possible.

Each raster's datum is the pipeline's decision when it carries one (the
``DRONEGIS_HEIGHT_DATUM`` tag ``dronegis process`` writes with
:func:`pipeline.geodesy.decision.datum_tags`), else what
:func:`pipeline.geodesy.decision.decide` makes of the file: its own vertical CRS
(compound EPSG:7416, a 3D CRS), or the geoid test (heights below the DVR90 geoid over
Denmark cannot be ellipsoidal), or unknown.

- Ellipsoidal heights are converted to DVR90 window by window when the DVR90 grid is
  available (:func:`pipeline.geodesy.dvr90.offset_field`), so the heights reported (base
  levels, max heights) are DVR90 heights; without the grid they stay ellipsoidal and are
  labelled so. Volumes against a base taken from the DSM do not depend on the datum.
- A base raster in another known datum than the DSM is converted to DVR90 with the grid,
  or refused with a message naming both files and datums: a DVR90 surface against an
  ellipsoidal one is off by the geoid height (36-42 m in Denmark).
- A raster whose datum is unknown is measured against the other with a note that the
  datums could not be compared.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyproj
import rasterio
from affine import Affine
from numpy.typing import NDArray
from pyproj.transformer import Transformer
from rasterio.io import DatasetReader

from core.errors import VolumeError
from pipeline.geodesy.decision import GeoidTest, decide, file_vertical, geoid_test, horizontal_part
from pipeline.geodesy.dvr90 import dvr90_transformer, offset_field
from pipeline.models import HeightDatum
from pipeline.volumes.models import BaseMethod, VolumeConfig
from pipeline.zonal.polygons import crs_text

DATUM_TAG = "DRONEGIS_HEIGHT_DATUM"
KNOWN = (HeightDatum.DVR90, HeightDatum.ELLIPSOIDAL)


class RasterDatum(NamedTuple):
    """The datum of one height raster and how it was found (Danish / English)."""

    datum: HeightDatum
    note: str


class HeightCheck(NamedTuple):
    """The outcome of the datum check: the heights' label, the conversions to apply, the notes."""

    label: HeightDatum
    notes: tuple[str, ...] = ()
    dsm_to_dvr90: Transformer | None = None
    base_to_dvr90: Transformer | None = None
    unstated: bool = False
    """A base raster is used and it or the DSM does not state its datum."""

    def apply(
        self, dsm: NDArray[np.float64], base: NDArray[np.float64] | None, transform: Affine
    ) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
        """The DSM and base heights of one window in the run's datum."""
        if self.dsm_to_dvr90 is not None and dsm.size:
            dsm = dsm + offset_field(self.dsm_to_dvr90, transform, dsm.shape)
        if self.base_to_dvr90 is not None and base is not None and base.size:
            base = base + offset_field(self.base_to_dvr90, transform, base.shape)
        return dsm, base


def raster_datum(path: Path, dataset: DatasetReader, grids: Path | None) -> RasterDatum:
    """The datum of a height raster: the pipeline's tag, else the file's CRS or the geoid test."""
    tagged = dataset.tags().get(DATUM_TAG)
    if tagged in {d.value for d in HeightDatum} and tagged != HeightDatum.UNKNOWN.value:
        datum = HeightDatum(tagged)
        return RasterDatum(datum, f"{path.name}: {DATUM_TAG}={datum.value} (dronegis process)")
    if dataset.crs is None:
        return RasterDatum(HeightDatum.UNKNOWN, f"{path.name}: ingen CRS / no CRS")
    crs = crs_text(pyproj.CRS.from_user_input(dataset.crs))
    # without the grid the test cannot decide; skip its read (a decimated read of a raster without
    # overviews decodes every block)
    test = geoid_test(path, crs, grids) if grids is not None else GeoidTest(None, None, "no DVR90 grid given")
    datum, _, note, _ = decide(str(path), file_vertical(crs), None, test)
    return RasterDatum(datum, f"{path.name}: {note}")


def _converter(datum: HeightDatum, crs: str, grids: Path | None) -> Transformer | None:
    """The ellipsoidal-to-DVR90 transformer for ``datum`` heights, None when not ellipsoidal or no grid."""
    if datum is not HeightDatum.ELLIPSOIDAL:
        return None
    return dvr90_transformer(horizontal_part(crs), grids)


def _refuse(config: VolumeConfig, own: HeightDatum, other: HeightDatum) -> VolumeError:
    return VolumeError(
        f"DSM {config.dsm} har højder i {own.value}, basisrastret {config.base_dem} i {other.value}; "
        "angiv DVR90-griddet (DRONEGIS_PROJ_GRIDS) for at konvertere / "
        f"DSM {config.dsm} has heights in {own.value} but base raster {config.base_dem} in {other.value}; "
        "a volume between them would be off by the geoid height (36-42 m in Denmark). Give the DVR90 grid "
        "folder (DRONEGIS_PROJ_GRIDS) to convert them"
    )


def check_heights(config: VolumeConfig, dsm: DatasetReader) -> HeightCheck:
    """The datum of the run's heights, after checking (and converting) the base raster against the DSM.

    Raises:
        VolumeError: the DSM and the base raster are in different datums and the DVR90 grid
            needed to convert the ellipsoidal one is not available.
    """
    crs = crs_text(pyproj.CRS.from_user_input(dsm.crs))
    own = raster_datum(config.dsm, dsm, config.proj_grids)
    to_dvr90 = _converter(own.datum, crs, config.proj_grids)
    notes = [own.note]
    if to_dvr90 is not None:
        notes.append(f"DSM: ellipsoidehøjder konverteret til DVR90 / ellipsoidal heights converted to DVR90 "
                     f"({to_dvr90.description})")  # fmt: skip
    label = HeightDatum.DVR90 if to_dvr90 is not None else own.datum
    if config.base is not BaseMethod.SURFACE or config.base_dem is None:
        return HeightCheck(label, tuple(notes), to_dvr90)
    with rasterio.open(config.base_dem) as base_ds:
        other = raster_datum(config.base_dem, base_ds, config.proj_grids)
        base_crs = crs_text(pyproj.CRS.from_user_input(base_ds.crs)) if base_ds.crs else crs
    base_to_dvr90 = _converter(other.datum, base_crs, config.proj_grids) if other.datum in KNOWN else None
    base_label = HeightDatum.DVR90 if base_to_dvr90 is not None else other.datum
    notes.append(other.note)
    if base_to_dvr90 is not None:
        notes.append("basisraster: ellipsoidehøjder konverteret til DVR90 / base raster: ellipsoidal heights "
                     "converted to DVR90")  # fmt: skip
        # the base is read on the DSM's grid: its offsets are evaluated in the DSM's CRS
        base_to_dvr90 = dvr90_transformer(horizontal_part(crs), config.proj_grids)
    if label in KNOWN and base_label in KNOWN and label is not base_label:
        raise _refuse(config, own.datum, other.datum)
    if HeightDatum.UNKNOWN in (label, base_label):
        notes.append(
            "datum ikke oplyst for den ene flade; DSM og basisraster antages i samme datum / "
            "vertical datum not stated for one surface; DSM and base raster assumed to share one datum"
        )
    unstated = HeightDatum.UNKNOWN in (own.datum, other.datum)
    final = label if label is not HeightDatum.UNKNOWN else base_label
    return HeightCheck(final, tuple(notes), to_dvr90, base_to_dvr90, unstated)
