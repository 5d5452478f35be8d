"""Height surfaces, shared by the volume and roof rooms: planes, orientation, area, windows.

``planes`` and ``grid`` are pure functions over coordinates and height grids, tested with
plain numbers; ``windows`` reads height rasters polygon by polygon on the zonal room's
primitives. :mod:`pipeline.volumes` fits a base plane along a polygon's boundary with
:func:`fit_plane_robust`; :mod:`pipeline.roofs` fits one plane per roof face and reports
its :func:`orientation`.
"""

from pipeline.surface.grid import cell_centres, grid_gradient, surface_factor
from pipeline.surface.planes import Plane, PlaneFit, fit_plane, fit_plane_robust, orientation

__all__ = [
    "Plane",
    "PlaneFit",
    "cell_centres",
    "fit_plane",
    "fit_plane_robust",
    "grid_gradient",
    "orientation",
    "surface_factor",
]
