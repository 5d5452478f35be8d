"""Which vertical datum a delivered DSM/DTM is in, and what its heights become.

The delivered heights' datum comes, in this order, from:

1. the file's own vertical CRS (a compound CRS such as EPSG:7416 = ETRS89 / UTM 32N +
   DVR90, GeoTIFF vertical keys, a ``.prj``; a 3D CRS means ellipsoidal heights);
2. the delivery's declaration (``dronegis ingest --height-datum``, the upload API);
   ``unknown`` declares nothing and lets the next source decide;
3. the geoid test, where it is decisive: over Denmark, heights below the DVR90 geoid
   height N minus :data:`GEOID_MARGIN_M` cannot be ellipsoidal (N is about 36-42 m and
   Danish land lies above about −7 m DVR90), so such heights are read as DVR90, the
   datum of every Danish terrain model. Heights above it prove nothing;
4. otherwise the datum is unknown.

Heights are converted only from a known ellipsoidal datum, with the DVR90 grid; without
the grid they stay ellipsoidal and are labelled so. A product whose datum is unknown is
never labelled DVR90. A declaration or file CRS the geoid test contradicts raises
:class:`~core.errors.HeightDatumWarning` naming the file: the heights are then neither
converted nor labelled (unknown). Notes and warnings are in Danish, then English.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyproj
import rasterio
from numpy.typing import NDArray
from pyproj.transformer import Transformer
from rasterio.enums import Resampling

from core.errors import DroneGisWarning, EllipsoidalHeightWarning, HeightDatumWarning
from core.workspace import Workspace
from flights.models import FileKind, Flight
from flights.rasters import crs_text
from pipeline.geodesy.dvr90 import DVR90, ETRS89_3D, dvr90_transformer, geoid_heights, with_dvr90
from pipeline.models import Datum, DatumSource, HeightDatum

#: Heights this far below the geoid height N cannot be ellipsoidal heights over Danish land.
GEOID_MARGIN_M = 5.0
#: Share of the sampled heights that must lie below N − margin for the test to decide.
MIN_SHARE_BELOW = 0.01
#: The geoid test reads the raster decimated to at most this many pixels a side.
SAMPLE_PX = 256
#: A pilot's declaration (``--height-datum``) as a datum.
DECLARATIONS: dict[str, HeightDatum] = {
    "dvr90": HeightDatum.DVR90,
    "ellipsoidal": HeightDatum.ELLIPSOIDAL,
    "unknown": HeightDatum.UNKNOWN,
}
_NAMES_DA = {
    HeightDatum.DVR90: "DVR90",
    HeightDatum.ELLIPSOIDAL: "ellipsoidehøjder",
    HeightDatum.UNKNOWN: "ukendt",
}


class GeoidTest(NamedTuple):
    """The geoid test of one raster: N at its centre and the share of heights below N − margin."""

    n_centre: float | None
    share_below: float | None
    why_not: str = ""
    """Why the test could not run (empty when it ran)."""

    @property
    def decisive(self) -> bool:
        """True when the heights cannot be ellipsoidal."""
        return self.share_below is not None and self.share_below >= MIN_SHARE_BELOW

    def describe(self) -> str:
        """One line (Danish / English) of what the test found."""
        if self.share_below is None:
            return f"geoidetesten kunne ikke køres / the geoid test could not run: {self.why_not}"
        found = f"{self.share_below:.1%} < N − {GEOID_MARGIN_M:g} m (N = {self.n_centre:.2f} m)"
        return f"geoidetest / geoid test: {found}"


class HeightPlan(NamedTuple):
    """The datum decision of a DSM/DTM and the transformer converting its heights (None: no conversion)."""

    datum: Datum
    transformer: Transformer | None


def horizontal_part(crs: str) -> str:
    """The horizontal CRS of ``crs`` (the first component of a compound CRS) as text."""
    parsed = pyproj.CRS.from_user_input(crs)
    return crs_text(parsed.sub_crs_list[0]) if parsed.is_compound else crs


def file_vertical(crs: str) -> tuple[HeightDatum | None, str | None]:
    """The datum the CRS itself states for heights, and its vertical CRS; (None, None) when it states none.

    A compound CRS names its vertical CRS: DVR90 (any realisation) or another one, which
    is returned as unknown (it is not converted here). A 3D CRS has an ellipsoidal height axis.
    """
    parsed = pyproj.CRS.from_user_input(crs)
    if parsed.is_compound:
        vertical = parsed.sub_crs_list[1]
        datum = HeightDatum.DVR90 if "DVR90" in vertical.name else HeightDatum.UNKNOWN
        return datum, crs_text(vertical)
    if len(parsed.axis_info) == 3:
        return HeightDatum.ELLIPSOIDAL, ETRS89_3D
    return None, None


def share_below(
    heights: NDArray[np.float64], n: NDArray[np.float64], margin: float = GEOID_MARGIN_M
) -> float | None:
    """Share of the heights below N − ``margin`` where both are known; None when nowhere (pure).

    >>> share_below(np.array([10.0, 50.0, np.nan]), np.array([40.0, 40.0, 40.0]))
    0.5
    """
    known = np.isfinite(heights) & np.isfinite(n)
    if not known.any():
        return None
    return float(np.mean(heights[known] < n[known] - margin))


def geoid_test(path: Path, crs: str, grids: Path | None) -> GeoidTest:
    """Run the geoid test on band 1 of ``path`` (in ``crs``), read decimated to ``SAMPLE_PX``."""
    with rasterio.open(path) as ds:
        factor = max(1, math.ceil(max(ds.width, ds.height) / SAMPLE_PX))
        shape = (math.ceil(ds.height / factor), math.ceil(ds.width / factor))
        band = ds.read(1, out_shape=shape, masked=True, resampling=Resampling.nearest)
        t = ds.transform * rasterio.Affine.scale(ds.width / shape[1], ds.height / shape[0])
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]] + 0.5
    cols, rows = np.append(cols.ravel(), shape[1] / 2), np.append(rows.ravel(), shape[0] / 2)  # + centre
    xs, ys = t.a * cols + t.b * rows + t.c, t.d * cols + t.e * rows + t.f
    n = geoid_heights(grids, crs, xs, ys)
    if n is None:
        reason = "ingen DVR90-grid / no DVR90 grid" + (f" in {grids}" if grids else " (Settings.proj_grids)")
        return GeoidTest(None, None, reason)
    heights = np.ma.filled(band.astype(np.float64), np.nan).ravel()
    share = share_below(heights, n[:-1])
    n_centre = float(n[-1]) if np.isfinite(n[-1]) else None
    if share is None or n_centre is None:
        return GeoidTest(n_centre, None, "uden for DVR90-griddet / outside the DVR90 grid (Denmark)")
    return GeoidTest(n_centre, share)


def decide(
    name: str, stated: tuple[HeightDatum | None, str | None], declared: HeightDatum | None, test: GeoidTest
) -> tuple[HeightDatum, DatumSource, str, list[str]]:
    """The delivered heights' datum, its source, a note and the contradictions found (pure).

    ``stated`` is :func:`file_vertical` of the file's CRS; ``declared`` the delivery's declaration.
    """
    in_file, vertical = stated
    said = declared if declared is not HeightDatum.UNKNOWN else None
    problems: list[str] = []
    if in_file is not None:
        datum, source = in_file, DatumSource.FILE_CRS
        note = f"filens lodrette CRS {vertical} / the file's vertical CRS {vertical}"
        if said is not None and said is not in_file:
            problems.append(
                f"{name}: erklæret {_NAMES_DA[said]} modsiges af filens lodrette CRS {vertical}; filens CRS "
                f"gælder / the declared datum {said.value} contradicts the file's vertical CRS {vertical}; "
                "the file's CRS wins"
            )
    elif said is not None:
        datum, source = said, DatumSource.DECLARATION
        note = f"erklæret ved levering: {_NAMES_DA[said]} / declared at delivery: {said.value}"
    elif test.decisive:
        datum, source = HeightDatum.DVR90, DatumSource.GEOID_TEST
        note = "højderne kan ikke være ellipsoidehøjder: DVR90 / the heights cannot be ellipsoidal: DVR90"
    else:
        datum, source = HeightDatum.UNKNOWN, DatumSource.DEFAULT
        note = "ingen kilde afgør datum: ukendt / no source decides the datum: unknown"
    if datum is HeightDatum.ELLIPSOIDAL and test.decisive:
        problems.append(
            f"{name}: {test.share_below:.0%} af højderne ligger under DVR90-geoiden N − {GEOID_MARGIN_M:g} m "
            f"(N = {test.n_centre:.2f} m) og kan ikke være ellipsoidehøjder; de konverteres ikke og mærkes "
            f"ukendt / {test.share_below:.0%} of the heights lie below the DVR90 geoid "
            f"N − {GEOID_MARGIN_M:g} m (N = {test.n_centre:.2f} m) and cannot be ellipsoidal as the "
            f"{source.value.replace('_', ' ')} says; they are not converted and are labelled unknown"
        )
        datum = HeightDatum.UNKNOWN
    return datum, source, f"{note}; {test.describe()}", problems


def plan_heights(
    path: Path, crs: str, *, target_crs: str, declared: HeightDatum | None, grids: Path | None
) -> HeightPlan:
    """Decide the datum of the DSM/DTM ``path`` (in ``crs``) and how its heights reach ``target_crs``.

    Emits :class:`HeightDatumWarning` for each contradiction and
    :class:`EllipsoidalHeightWarning` when ellipsoidal heights cannot be converted.
    """
    test = geoid_test(path, crs, grids)
    delivered, source, note, problems = decide(str(path), file_vertical(crs), declared, test)
    for problem in problems:
        warnings.warn(problem, HeightDatumWarning, stacklevel=2)
    horizontal = horizontal_part(target_crs)
    product, transformer, conversion = delivered, None, None
    if delivered is HeightDatum.ELLIPSOIDAL:
        transformer = dvr90_transformer(horizontal, grids)
        if transformer is None:
            warnings.warn(
                f"{path}: DVR90 grid not available ({grids or 'no grid folder given'}); heights stay "
                "ellipsoidal (ETRS89) and are labelled so",
                EllipsoidalHeightWarning,
                stacklevel=2,
            )
        else:
            product, conversion = HeightDatum.DVR90, f"{transformer.description} [{transformer.definition}]"
    decision = Datum(
        datum=product,
        delivered=delivered,
        source=source,
        vertical_crs={HeightDatum.DVR90: DVR90, HeightDatum.ELLIPSOIDAL: ETRS89_3D}.get(product),
        crs=crs_text(with_dvr90(horizontal)) if product is HeightDatum.DVR90 else horizontal,
        geoid_n_m=None if test.n_centre is None else round(test.n_centre, 4),
        share_below_geoid=test.share_below,
        conversion=conversion,
        note=note,
        warnings=tuple(problems),
    )
    return HeightPlan(decision, transformer)


def datum_tags(decision: Datum) -> dict[str, str]:
    """COG metadata of a datum decision (``DRONEGIS_HEIGHT_*``, ``DRONEGIS_GEOID_N_M``)."""
    tags = {
        "DRONEGIS_HEIGHT_DATUM": decision.datum.value,
        "DRONEGIS_HEIGHT_DATUM_SOURCE": decision.source.value,
    }
    if decision.geoid_n_m is not None:
        tags["DRONEGIS_GEOID_N_M"] = f"{decision.geoid_n_m:.3f}"
    if decision.conversion:
        tags["DRONEGIS_HEIGHT_OPERATION"] = decision.conversion
    return tags


def delivered_datums(
    workspace: Workspace, flight: Flight, *, target_crs: str, grids: Path | None
) -> list[tuple[str, Datum]]:
    """The datum decision of every archived DSM/DTM of ``flight`` (what ``process`` will decide).

    Warnings are not emitted; each decision carries its contradictions (``Datum.warnings``).
    Files without a CRS are left out (``process`` refuses them with its own message).
    """
    out: list[tuple[str, Datum]] = []
    for delivered in flight.files:
        declared = flight.height_datum.for_kind(delivered.kind)
        if delivered.kind not in (FileKind.DSM, FileKind.DTM) or delivered.crs is None:
            continue
        path = workspace.archived_file(flight.id, delivered.path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DroneGisWarning)
            plan = plan_heights(
                path,
                delivered.crs,
                target_crs=target_crs,
                declared=DECLARATIONS[declared] if declared else None,
                grids=grids,
            )
        out.append((delivered.path, plan.datum))
    return out
