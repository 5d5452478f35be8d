"""The ``frames`` room: single frames placed by their camera model and pose, as COGs and records.

- :mod:`pipeline.frames.dem` — the ground under the frames: a DEM in the target CRS, sampled.
- :mod:`pipeline.frames.locate` — a frame's camera, pose and footprint, its layer record, its STAC view.
- :mod:`pipeline.frames.render` — the output grid and the inverse map (pixels from the image).
- :mod:`pipeline.frames.write` — the frame's COG (RGB JPEG + mask, or °C) and its thumbnail.
- :mod:`pipeline.frames.tasks` — one frame as a picklable task (any executor).
- :mod:`pipeline.frames.stage` — the ``frames`` sub-stage of ``process``.
"""

from pipeline.frames.dem import DemSampler
from pipeline.frames.locate import frame_record, frame_view, is_thermal, locate_frame
from pipeline.frames.render import MAX_FRAME_PX, frame_grid, read_image, render_frame
from pipeline.frames.stage import frame_inputs, frames_stage, thermal_distances, thermal_frame_info
from pipeline.frames.tasks import FrameResult, FrameTask, georeference_frame
from pipeline.frames.write import write_frame_cog, write_thumbnail

__all__ = [
    "MAX_FRAME_PX",
    "DemSampler",
    "FrameResult",
    "FrameTask",
    "frame_grid",
    "frame_inputs",
    "frame_record",
    "frame_view",
    "frames_stage",
    "georeference_frame",
    "is_thermal",
    "locate_frame",
    "read_image",
    "render_frame",
    "thermal_distances",
    "thermal_frame_info",
    "write_frame_cog",
    "write_thumbnail",
]
