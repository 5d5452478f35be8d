"""How a product was placed on the map (``Product.georef``) and how its camera looked (``Product.view``).

One variant per method, told apart by ``method``: a delivered raster reprojected (``delivered``),
a frame cast to the ground through its camera model and pose (``pose``), a frame warped by a GCP
fit (``gcp``), a mosaic blended from georeferenced frames (``mosaic``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from core.models import Frozen
from pipeline.models.fit import GcpFit, PointResidual

DEFAULT_MAX_RANGE_M = 500.0
"""Horizontal metres beyond which a frame's ray is clipped and flagged (``ProcessConfig.max_range``).

Here rather than in :mod:`pipeline.georef.raycast`, whose package imports pyproj: the run's
configuration (:mod:`pipeline.run`, imported by every ``pipeline.x`` import through the facade)
reads it, and ``dronegis thermal`` needs no pyproj."""


class FrameRecord(Frozen):
    """What one georeferenced frame contributes to the flight's layers (coordinates in the product CRS).

    The fields are the attributes of the footprints and photo-points GeoPackages, in this order.
    """

    file: str
    kind: str
    time: str | None = Field(description="capture time, ISO 8601 (UTC)")
    relative_altitude_m: float | None
    height_above_ground_m: float
    height_rule: str
    gsd_m: float | None
    gsd_worst_m: float | None
    pitch: float
    yaw: float
    roll: float
    yaw_source: str
    grid_bearing: float
    blur_score: float | None
    rtk_fixed: bool
    camera_source: str
    clipped_rays: int
    camera_east: float
    camera_north: float
    footprint_wkt: str
    thumbnail: str = Field(description="JPEG thumbnail, relative to the workspace")
    cog: str = Field(description="the frame's COG, relative to the workspace")


class DeliveredGeoref(Frozen):
    """A delivered orthophoto, DSM or DTM reprojected to the target CRS (``pipeline.rasters``)."""

    method: Literal["delivered"] = "delivered"
    source_crs: str
    warp: str = Field(description="'identity (relabel, no resampling)' or 'warped'")
    max_shift_px: float | None = Field(description="largest pixel move of the operation; None: not finite")
    resampling: str
    operation_accuracy_m: float | None = Field(description="accuracy PROJ states for the operation")
    cog_profile: str


class PoseGeoref(Frozen):
    """A frame cast to the ground through its camera model and pose (``pipeline.frames``)."""

    method: Literal["pose"] = "pose"
    ground: Literal["dem", "plane"] = Field(description="a DEM, or a plane at take-off elevation")
    footprint_clipped: bool = Field(description="rays at or above the horizon were clipped")
    record: FrameRecord


class GcpGeoref(Frozen):
    """A frame warped by a polynomial fit to its GCPs (``pipeline.gcp``)."""

    method: Literal["gcp"] = "gcp"
    fit: GcpFit
    check_points: tuple[PointResidual, ...] = Field((), description="check points against the fit")


class MosaicGeoref(Frozen):
    """A mosaic of georeferenced frames (``pipeline.mosaic``)."""

    method: Literal["mosaic"] = "mosaic"
    blend: str


Georef = Annotated[DeliveredGeoref | PoseGeoref | GcpGeoref | MosaicGeoref, Field(discriminator="method")]


class View(Frozen):
    """Where the camera looked from, as STAC ``platform``, ``instruments`` and ``view:*`` state it.

    Angles come from the frame's pose (gimbal attitude): ``off_nadir_deg`` is the angle between the
    optical axis and the plumb line, ``azimuth_deg`` the true bearing of the axis, clockwise from
    north (None for a camera looking straight down).
    """

    platform: str | None = Field(None, description="the aircraft, when the files name it")
    instruments: tuple[str, ...] = Field((), description="the cameras, 'make model', lower case")
    off_nadir_deg: float | None = Field(None, ge=0.0, le=90.0)
    azimuth_deg: float | None = Field(None, ge=0.0, lt=360.0)
