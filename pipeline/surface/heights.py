"""The vertical datum of height rasters measured together (a DSM and a base raster or DTM), DVR90 if possible.

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

from core.errors import HeightDatumError
from pipeline.geodesy.decision import GeoidTest, decide, file_vertical, geoid_test, horizontal_part
from pipeline.geodesy.dvr90 import dvr90_transformer, offset_field
from pipeline.models import HeightDatum
from pipeline.zonal.polygons import crs_text

DATUM_TAG = "DRONEGIS_HEIGHT_DATUM"
KNOWN = (HeightDatum.DVR90, HeightDatum.ELLIPSOIDAL)
DATUM_NAMES: dict[HeightDatum, tuple[str, str]] = {
    HeightDatum.DVR90: ("DVR90 (EPSG:5799)", "DVR90 (EPSG:5799)"),
    HeightDatum.ELLIPSOIDAL: ("ellipsoidehøjder (ETRS89)", "ellipsoidal (ETRS89)"),
    HeightDatum.UNKNOWN: ("ukendt", "unknown"),
    HeightDatum.NOT_APPLICABLE: ("–", "–"),
}
"""Each datum's name for people, Danish and English."""


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
    """Converts the second raster (base raster, DTM) to DVR90 on the DSM's grid."""
    unstated: bool = False
    """A second raster is used and it or the DSM does not state its datum."""

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


def _refuse(
    dsm: Path, other: Path, datums: tuple[HeightDatum, HeightDatum], name: tuple[str, str]
) -> HeightDatumError:
    own, theirs = datums
    return HeightDatumError(
        f"DSM {dsm} har højder i {own.value}, {name[0]} {other} i {theirs.value}; angiv DVR90-griddet "
        f"(DRONEGIS_PROJ_GRIDS) for at konvertere / DSM {dsm} has heights in {own.value} but {name[1]} "
        f"{other} in {theirs.value}; comparing them would be off by the geoid height (36-42 m in Denmark). "
        "Give the DVR90 grid folder (DRONEGIS_PROJ_GRIDS) to convert them"
    )


def check_heights(
    dsm: Path,
    dataset: DatasetReader,
    other: Path | None,
    grids: Path | None,
    name: tuple[str, str] = ("basisrastret", "base raster"),
) -> HeightCheck:
    """The datum of the heights of ``dsm`` (open as ``dataset``), after checking and converting ``other``.

    Args:
        dsm: the DSM's path.
        dataset: the DSM, open.
        other: a second height raster read on the DSM's grid (a base raster, a DTM), or None.
        grids: the DVR90 grid folder, or None.
        name: what ``other`` is called in messages, Danish (definite) and English.

    Raises:
        HeightDatumError: the two rasters are in different datums and the DVR90 grid needed
            to convert the ellipsoidal one is not available.
    """
    crs = crs_text(pyproj.CRS.from_user_input(dataset.crs))
    own = raster_datum(dsm, dataset, grids)
    to_dvr90 = _converter(own.datum, crs, grids)
    notes = [own.note]
    if to_dvr90 is not None:
        notes.append(f"DSM: ellipsoidehøjder konverteret til DVR90 / ellipsoidal heights converted to DVR90 "
                     f"({to_dvr90.description})")  # fmt: skip
    label = HeightDatum.DVR90 if to_dvr90 is not None else own.datum
    if other is None:
        return HeightCheck(label, tuple(notes), to_dvr90)
    with rasterio.open(other) as other_ds:
        theirs = raster_datum(other, other_ds, grids)
        other_crs = crs_text(pyproj.CRS.from_user_input(other_ds.crs)) if other_ds.crs else crs
    other_to_dvr90 = _converter(theirs.datum, other_crs, grids) if theirs.datum in KNOWN else None
    other_label = HeightDatum.DVR90 if other_to_dvr90 is not None else theirs.datum
    notes.append(theirs.note)
    if other_to_dvr90 is not None:
        notes.append(f"{name[0]}: ellipsoidehøjder konverteret til DVR90 / {name[1]}: ellipsoidal heights "
                     "converted to DVR90")  # fmt: skip
        # the other raster is read on the DSM's grid: its offsets are evaluated in the DSM's CRS
        other_to_dvr90 = dvr90_transformer(horizontal_part(crs), grids)
    if label in KNOWN and other_label in KNOWN and label is not other_label:
        raise _refuse(dsm, other, (own.datum, theirs.datum), name)
    unstated = HeightDatum.UNKNOWN in (own.datum, theirs.datum)
    if unstated:
        notes.append(
            f"datum ikke oplyst for DSM eller {name[0]}; de antages i samme datum / vertical datum not "
            f"stated for the DSM or the {name[1]}; both assumed to share one datum"
        )
    final = label if label is not HeightDatum.UNKNOWN else other_label
    return HeightCheck(final, tuple(notes), to_dvr90, other_to_dvr90, unstated)
