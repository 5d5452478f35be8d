"""A budget of pixels rendered at once: what bounds the service's memory under many large GetMaps.

One 4096 x 4096 GetMap holds a few hundred MiB while it is read, warped, styled and encoded; fifty
clients asking for such maps at once would hold tens of GiB. Every GetMap takes its WIDTH x HEIGHT
from :data:`MAP_PIXELS` for the length of its rendering and waits while the budget is spent (small
maps and tiles pass at once while large ones queue); a request larger than the whole budget waits
until it has the budget to itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from webgis_export.ogc.capabilities import MAX_SIZE


class PixelBudget:
    """Pixels in flight, shared by the threads of one process."""

    def __init__(self, pixels: int) -> None:
        self.total = pixels
        self.free = pixels
        self._cond = threading.Condition()

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        """Take ``pixels`` (at most the whole budget) for the ``with`` block, waiting while they are spent."""
        need = min(pixels, self.total)
        with self._cond:
            self._cond.wait_for(lambda: self.free >= need)
            self.free -= need
        try:
            yield
        finally:
            with self._cond:
                self.free += need
                self._cond.notify_all()


#: Two maps of the largest size the service draws (2 x 4096 x 4096 pixels) at once.
MAP_PIXELS = PixelBudget(2 * MAX_SIZE * MAX_SIZE)
