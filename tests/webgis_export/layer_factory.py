"""Published layers built in memory for the tests of titles, trust and places (no COG needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pipeline.models import ProductKind
from webgis_export.models import Layer, Style

# Skanderborg (8660): 557875 E, 6212000 N in EPSG:25832
BOUNDS_25832 = (557840.0, 6211973.0, 557910.0, 6212026.0)
BOUNDS_WGS84 = (9.92860, 56.04945, 9.92973, 56.04994)
# Ry (8680), about 15 km west
RY_WGS84 = (9.7700, 56.0870, 9.7720, 56.0880)


def make_layer(
    layer_id: str, flight: str, kind: ProductKind = ProductKind.THERMAL_MOSAIC, **fields: Any
) -> Layer:
    """A layer of ``flight`` with sensible defaults; ``fields`` override any of them."""
    defaults: dict[str, Any] = {
        "id": layer_id,
        "title": f"{flight} ({kind.value})",
        "kind": kind,
        "access": "public",
        "flight": flight,
        "product_id": f"{flight}-{kind.value}",
        "style": Style(colormap="inferno", vmin=0.0, vmax=20.0, unit="°C")
        if kind in (ProductKind.THERMAL_MOSAIC, ProductKind.THERMAL_FRAME)
        else Style(title="RGB"),
        "cog": f"layers/{layer_id}/cog.tif",
        "crs": "EPSG:25832",
        "bounds": BOUNDS_25832,
        "bounds_wgs84": BOUNDS_WGS84,
        "width": 350,
        "height": 265,
        "band_count": 1,
        "dtype": "float32",
        "gsd_m": 0.2,
        "time_start": datetime(2026, 12, 3, 5, 30, tzinfo=UTC),
        "time_end": datetime(2026, 12, 3, 5, 30, tzinfo=UTC),
        "stac_item": f"stac/{kind.value}/{layer_id}/{layer_id}.json",
        "published_at": datetime(2026, 12, 4, 9, 0, tzinfo=UTC),
        "qa_status": "pass",
    }
    return Layer.model_validate({**defaults, **fields})
