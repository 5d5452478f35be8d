"""The ``layers`` room: the flight's vector layers (frame footprints and camera positions).

- :mod:`pipeline.layers.gpkg` — the GeoPackages, written atomically.
- :mod:`pipeline.layers.stage` — the ``layers`` sub-stage of ``process``: the two vector products.
"""

from pipeline.layers.gpkg import write_layers
from pipeline.layers.stage import layers_stage

__all__ = ["layers_stage", "write_layers"]
