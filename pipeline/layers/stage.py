"""The ``layers`` sub-stage of ``process``: the flight's footprints and photo points as vector products."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipeline.layers.gpkg import write_layers
from pipeline.models import PoseGeoref, Product, ProductKind, Skipped, VectorInfo
from pipeline.products import bounds_of
from pipeline.products import product_id as make_product_id
from pipeline.run import ProcessRun, StageOutput


def layers_stage(run: ProcessRun, products: Mapping[str, Product], skipped: Sequence[Skipped]) -> StageOutput:
    """Footprints and photo-points GeoPackages from the frame products (``skipped``: frames without one)."""
    frames = sorted((p for p in products.values() if isinstance(p.georef, PoseGeoref)), key=lambda p: p.id)
    if not frames:
        return StageOutput()
    records = [p.georef.record for p in frames if isinstance(p.georef, PoseGeoref)]
    footprints = run.workspace.footprints_gpkg(run.flight.id)
    points = run.workspace.photo_points_gpkg(run.flight.id)
    write_layers(records, footprints, points, run.target_crs)
    times = [p.time_start for p in frames if p.time_start is not None]
    common = {
        "flight": run.flight.id,
        "crs": run.target_crs,
        "time_start": min(times, default=None),
        "time_end": max(times, default=None),
        "source_files": tuple(f for p in frames for f in p.source_files),
        "transformation": frames[0].transformation,
    }
    xs = [r.camera_east for r in records]
    ys = [r.camera_north for r in records]
    layers = (
        Product(
            id=make_product_id(run.flight.id, "footprints"),
            kind=ProductKind.FOOTPRINTS,
            path=run.rel(footprints),
            bounds=bounds_of(frames) or (0.0, 0.0, 0.0, 0.0),
            vector=VectorInfo(layer="footprints", count=len(records), skipped=tuple(skipped)),
            **common,
        ),
        Product(
            id=make_product_id(run.flight.id, "photo-points"),
            kind=ProductKind.PHOTO_POINTS,
            path=run.rel(points),
            bounds=(min(xs), min(ys), max(xs), max(ys)),
            vector=VectorInfo(layer="photo_points", count=len(records), skipped=tuple(skipped)),
            **common,
        ),
    )
    return StageOutput(layers)
