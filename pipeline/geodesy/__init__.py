"""Heights: the DVR90 geoid and the vertical datum of delivered DSMs and DTMs.

- ``dvr90``: the DVR90 grids, ellipsoidal-to-DVR90 transformers, geoid heights and the
  per-window height conversion (pure math apart from the grid look-up).
- ``decision``: which datum a delivered DSM/DTM is in (file CRS, declaration, geoid test,
  default unknown) and what its heights become (:class:`~pipeline.models.Datum`).
"""

from pipeline.geodesy.decision import DECLARATIONS, HeightPlan, datum_tags, decide, geoid_test, plan_heights
from pipeline.geodesy.dvr90 import convert_heights, dvr90_transformer, geoid_heights, register_grids, to_dvr90

__all__ = [
    "DECLARATIONS",
    "HeightPlan",
    "convert_heights",
    "datum_tags",
    "decide",
    "dvr90_transformer",
    "geoid_heights",
    "geoid_test",
    "plan_heights",
    "register_grids",
    "to_dvr90",
]
