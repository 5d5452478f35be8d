"""The cut/fill raster (DSM − base, float32 COG) and its diverging legend.

Polygons are measured one window at a time; each window's DSM − base is written into a
tiled scratch GeoTIFF covering all polygons (cells outside every polygon stay nodata),
which :func:`pipeline.rasters.cog.write_cog` turns into the COG. Where polygons overlap, the
later one's cells win. The colours are a diverging map centred on 0: red above the base
(cut), blue below it (fill), symmetric about zero so equal colours mean equal depths.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np
import rasterio
from numpy.typing import NDArray
from rasterio.io import DatasetReader
from rasterio.windows import Window

from core.atomic import TMP_SUFFIX, atomic_write_bytes
from pipeline.rasters.cog import COG_PROFILES, CogProfile, write_cog

if TYPE_CHECKING:
    pass

NODATA = -9999.0
COLORMAP = "RdBu_r"
"""matplotlib's red-blue map, reversed: negative (fill) blue, positive (cut) red."""
CUTFILL_PROFILE: CogProfile = COG_PROFILES.get("cutfill_f32")  # the CUT_FILL kind's profile


def legend_range(p98s: list[float]) -> float:
    """Half-width of the symmetric colour range: the largest polygon's 98th percentile of |DSM − base|.

    Rounded up to 1, 2 or 5 × a power of ten (at least 1 cm), so the legend reads cleanly.

    Example:
        >>> legend_range([0.3, 2.7])
        5.0
    """
    largest = max([p for p in p98s if math.isfinite(p)] + [0.01])
    power = 10.0 ** math.floor(math.log10(largest))
    return next(step * power for step in (1.0, 2.0, 5.0, 10.0) if step * power >= largest - 1e-12)


class CutFillWriter:
    """A scratch GeoTIFF on a window of the DSM grid that polygon windows are written into.

    The scratch is ZSTD level 1 (fast; the COG is written with the profile's codec). A
    window is read back and merged only where it overlaps one written before.
    """

    def __init__(self, dst: Path, dsm: DatasetReader, window: Window) -> None:
        self.dst = dst
        self.window = window
        dst.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.stem}.scratch.", suffix=TMP_SUFFIX)
        os.close(fd)
        self.scratch = Path(name)
        profile = {
            "driver": "GTiff", "width": int(window.width), "height": int(window.height), "count": 1,
            "dtype": "float32", "crs": dsm.crs, "transform": dsm.window_transform(window), "nodata": NODATA,
            "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "ZSTD", "zstd_level": 1,
            "sparse_ok": True, "bigtiff": "IF_SAFER",
        }  # fmt: skip
        self._written: list[tuple[int, int, int, int]] = []
        self._dataset = rasterio.open(self.scratch, "w+", **profile)
        self._dataset.units = ("m",)
        self._dataset.set_band_description(1, "DSM - base (m): + cut, - fill")

    def write(self, window: Window, difference: NDArray[np.float32]) -> None:
        """Put the finite cells of ``difference`` (a window of the DSM grid) into the raster."""
        if difference.size == 0 or not np.isfinite(difference).any():
            return
        local = Window(
            window.col_off - self.window.col_off,
            window.row_off - self.window.row_off,
            window.width,
            window.height,
        )
        box = (
            int(local.row_off),
            int(local.row_off + local.height),
            int(local.col_off),
            int(local.col_off + local.width),
        )
        overlaps = any(
            b[0] < box[1] and box[0] < b[1] and b[2] < box[3] and box[2] < b[3] for b in self._written
        )
        current = self._dataset.read(1, window=local) if overlaps else np.float32(NODATA)
        merged = np.where(np.isfinite(difference), difference, current).astype(np.float32)
        self._dataset.write(merged, 1, window=local)
        self._written.append(box)

    def finish(self, tags: Mapping[str, str], cache_mb: int) -> Path:
        """Close the scratch raster and write it as the COG ``dst``."""
        self._dataset.close()
        return write_cog(self.scratch, self.dst, CUTFILL_PROFILE, tags=tags, cache_mb=cache_mb)

    def __enter__(self) -> CutFillWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if not self._dataset.closed:
            self._dataset.close()
        with contextlib.suppress(FileNotFoundError):
            self.scratch.unlink()


def legend_png(dst: Path, vmax: float) -> Path:
    """A vertical colour bar from −vmax (fill) to +vmax (cut), labelled in Danish and English."""
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2.2, 3.4), dpi=100)
    ax = fig.add_axes((0.12, 0.08, 0.18, 0.78))
    gradient = np.linspace(vmax, -vmax, 256).reshape(-1, 1)
    ax.imshow(gradient, aspect="auto", cmap=COLORMAP, norm=Normalize(-vmax, vmax), extent=(0, 1, -vmax, vmax))
    ax.set_xticks([])
    ax.yaxis.tick_right()
    ax.tick_params(labelsize=8)
    ax.set_title("DSM − basis / base (m)", fontsize=8, loc="left")
    fig.text(0.42, 0.80, "afgravning\ncut", fontsize=8, color="#b2182b")
    fig.text(0.42, 0.12, "opfyldning\nfill", fontsize=8, color="#2166ac")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    atomic_write_bytes(dst, buffer.getvalue())
    return dst
