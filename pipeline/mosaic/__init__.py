"""The ``mosaic`` room: the flight's °C mosaic of georeferenced thermal frames, blended nearest-to-nadir.

- :mod:`pipeline.mosaic.tasks` — one block of the mosaic as a picklable task (any executor).
- :mod:`pipeline.mosaic.build` — the grid, the window tasks, the blocks written and the COG.
- :mod:`pipeline.mosaic.stage` — the ``mosaic`` sub-stage of ``process``: its frames and product.
"""

from pipeline.mosaic.build import BLEND, MAX_MOSAIC_SIDE_PX, thermal_mosaic
from pipeline.mosaic.stage import mosaic_stage
from pipeline.mosaic.tasks import MosaicFrame, MosaicWindow, frame_window, mosaic_window, plan_windows

__all__ = [
    "BLEND",
    "MAX_MOSAIC_SIDE_PX",
    "MosaicFrame",
    "MosaicWindow",
    "frame_window",
    "mosaic_stage",
    "mosaic_window",
    "plan_windows",
    "thermal_mosaic",
]
