"""The published layers as the service sees them: layers.json, open COGs, static tiles.

Published vector layers (``collections.json``) are reached through :attr:`LayerStore.vectors`.

:class:`LayerStore` re-reads ``publish/layers.json`` when it changes (a publish or
unpublish while the server runs), keeps COGs open (one FastWarp per COG for every
thread, see :mod:`webgis_export.render`) and renders maps and tiles. Access control happens
in the caller: :meth:`LayerStore.visible` filters by whether the caller may see
internal layers.
"""

from __future__ import annotations

import json
import logging
import threading
from functools import lru_cache
from pathlib import Path

import pyproj
import rasterio
from rasterio.crs import CRS

from core.errors import LayerNotFound
from core.workspace import Workspace
from webgis_export.models import Layer
from webgis_export.privacy.gate import GatedVectorStore, PublicationGate
from webgis_export.pyramid import EXTENSIONS, tile_path
from webgis_export.render import (
    FastWarp,
    ImageFormat,
    ReaderPool,
    Rendered,
    open_published,
    read_point,
    style_image,
)
from webgis_export.tms import get_tms
from webgis_export.vectors.store import VectorStore

log = logging.getLogger(__name__)


class LayerStore:
    """Published layers of one workspace and the open datasets behind them."""

    def __init__(self, workspace: Workspace, gate: PublicationGate | None = None) -> None:
        self.workspace = workspace
        self.gate = gate
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._layers: dict[str, Layer] = {}
        self._datasets: list[rasterio.io.DatasetReader] = []
        self._warps: dict[str, FastWarp] = {}
        self.readers = ReaderPool()
        self._retired: list[ReaderPool] = []
        self.vectors = GatedVectorStore(workspace, gate) if gate is not None else VectorStore(workspace)

    def _reload(self) -> None:
        path = self.workspace.layers_json
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = (0, 0)
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            docs = json.loads(path.read_text(encoding="utf-8")) if stamp != (0, 0) else []
            self._layers = {doc["id"]: Layer.model_validate(doc) for doc in docs}
            self._stamp = stamp
            # a republished (re-masked) COG replaces the file: old warps and readers must not serve it
            self._warps = {}
            self._retired.append(self.readers)
            self.readers = ReaderPool()
            log.info("loaded %d published layers from %s", len(self._layers), path)

    def layers(self) -> list[Layer]:
        """Every published layer, in publication order."""
        self._reload()
        if self.gate is None:
            return list(self._layers.values())
        snapshot = self.gate.snapshot()
        return [layer for layer in self._layers.values() if snapshot.allows(layer)]

    def _allowed(self, layer: Layer) -> bool:
        """False when the privacy gate withholds the layer (other zones, flight being erased)."""
        return self.gate is None or self.gate.allows(layer)

    def withheld_ids(self) -> list[str]:
        """Ids of published raster and vector layers the privacy gate withholds now."""
        if self.gate is None:
            return []
        self._reload()
        snapshot = self.gate.snapshot()
        rasters = [layer.id for layer in self._layers.values() if not snapshot.allows(layer)]
        vectors = self.vectors.withheld_ids() if isinstance(self.vectors, GatedVectorStore) else []
        return rasters + vectors

    def visible(self, internal: bool) -> list[Layer]:
        """Layers a caller may see: public ones, plus internal ones when ``internal``."""
        return [layer for layer in self.layers() if internal or layer.access == "public"]

    def get(self, layer_id: str, internal: bool) -> Layer:
        """One visible layer.

        Raises:
            LayerNotFound: unknown id, or an internal layer without permission (same answer,
                so that the existence of internal layers does not leak).
        """
        self._reload()
        layer = self._layers.get(layer_id)
        if layer is None or (layer.access == "internal" and not internal) or not self._allowed(layer):
            raise LayerNotFound(f"no layer {layer_id!r}")
        return layer

    def cog_path(self, layer: Layer) -> str:
        """Absolute path of the layer's COG."""
        return str(self.workspace.publish / layer.cog)

    def warp(self, layer: Layer) -> FastWarp:
        """The FastWarp of the layer's COG, shared by every render thread.

        One dataset handle per COG (FastWarp locks it around its reads) instead of one per thread:
        GDAL caches decoded blocks per handle, so with a handle per render thread every thread
        decoded the same JPEG blocks again and four copies thrashed GDAL_CACHEMAX (benchmark tiles
        in-process on 4 threads: 4.0 -> 2.9 ms CPU a tile cold, 2.8 -> 1.5 ms warm).
        """
        path = self.cog_path(layer)
        with self._lock:
            warp = self._warps.get(path)
            if warp is None:
                dataset = open_published(path)
                self._datasets.append(dataset)
                warp = self._warps[path] = FastWarp(dataset)
        return warp

    def render(
        self, layer: Layer, bounds: tuple[float, float, float, float], crs: CRS, width: int, height: int
    ) -> Rendered | None:
        """The styled image of ``bounds`` (x/y order in ``crs``), or ``None`` outside the layer."""
        image = self.warp(layer).read(bounds, crs, width, height)
        return style_image(image, layer.style) if image is not None else None

    def render_tile(self, layer: Layer, tms_id: str, z: int, row: int, col: int) -> Rendered | None:
        """A styled tile rendered from the COG, or ``None`` where the layer has no data."""
        tms = get_tms(tms_id)
        matrix = tms.matrix(z)
        x0, y0 = matrix.pointOfOrigin
        span_x, span_y = matrix.cellSize * matrix.tileWidth, matrix.cellSize * matrix.tileHeight
        bounds = (x0 + col * span_x, y0 - (row + 1) * span_y, x0 + (col + 1) * span_x, y0 - row * span_y)
        rendered = self.render(layer, bounds, tms.rasterio_crs, matrix.tileWidth, matrix.tileHeight)
        return None if rendered is None or rendered.empty else rendered

    def static_tile(
        self, layer: Layer, tms_id: str, z: int, row: int, col: int, fmt: ImageFormat
    ) -> Path | None:
        """The pre-rendered tile file, when the layer's pyramid has one in that format."""
        if fmt != layer.tile_format or tms_id not in layer.pyramids:
            return None
        path = tile_path(
            self.workspace.published_layer(layer.id) / layer.style.name / tms_id, z, row, col, fmt
        )
        return path if path.exists() else None

    def in_pyramid(self, layer: Layer, tms_id: str, z: int, fmt: ImageFormat) -> bool:
        """True when the static pyramid covers level ``z`` (a missing tile there is empty)."""
        zooms = layer.pyramids.get(tms_id)
        return fmt == layer.tile_format and zooms is not None and zooms[0] <= z <= zooms[1]

    def point(self, layer: Layer, x: float, y: float, crs: CRS) -> list[float | None]:
        """Raw band values of the layer's COG at (x, y) in ``crs`` (rio-tiler)."""
        return read_point(self.readers.get(self.cog_path(layer)), x, y, crs)

    def close(self) -> None:
        """Close every dataset opened by any thread."""
        with self._lock:
            datasets, self._datasets = self._datasets, []
            self._warps = {}
        for dataset in datasets:
            dataset.close()
        self.readers.close()
        for pool in self._retired:
            pool.close()
        self._retired = []


@lru_cache(maxsize=512)
def bounds_in(layer_crs: str, bounds: tuple[float, float, float, float], crs: str) -> tuple[float, ...]:
    """``bounds`` reprojected to ``crs`` (x/y order, densified edges), cached.

    Through pyproj, as :func:`flights.rasters.wgs84_bounds`: GDAL's ``transform_bounds`` came back
    infinite for NAD83 / UTM 18N after some sequences of work in one long process. The CRS are read
    by rasterio (which knows WMS spellings such as ``CRS:84``) and handed over as WKT.
    """
    source, target = (pyproj.CRS.from_wkt(CRS.from_user_input(c).to_wkt()) for c in (layer_crs, crs))
    move = pyproj.Transformer.from_crs(source, target, always_xy=True)
    return tuple(move.transform_bounds(*bounds, densify_pts=21))


def tile_extension(fmt: ImageFormat) -> str:
    """File extension of a tile format (``png``, ``jpg``)."""
    return EXTENSIONS[fmt]
