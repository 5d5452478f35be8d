"""Roof faces per building from a DSM: true area, slope and aspect per face; per building totals.

``dronegis roofs DSM --footprints FILE`` and the ``roofs`` sub-stage of ``dronegis
process`` (:mod:`pipeline.roofs.flight`) call :func:`run_roofs` with a frozen
:class:`RoofConfig`. The face search is documented in
:mod:`pipeline.roofs.segment`; the figures in :mod:`pipeline.roofs.measure`.
"""

from pipeline.roofs.models import Building, RoofConfig, RoofPlane, RoofRun, RoofSettings, RoofStatus
from pipeline.roofs.stage import run_roofs

__all__ = ["Building", "RoofConfig", "RoofPlane", "RoofRun", "RoofSettings", "RoofStatus", "run_roofs"]
