"""The workspace: one frozen object that owns every output path.

No other module builds workspace file names (ODM's ``ODM_Tree`` idea). Layout::

    archive/<flight>/...            originals, read-only, manifest.json + flight.json
    quarantine/<flight>/...         unusable files, each with <name>.reason.txt
    products/<flight>/...           COGs, footprints, products.json
    qa/<flight>/report.{json,html}
    publish/                        COGs, STAC, tiles, capabilities, layers.json
    catalog.sqlite                  flights, jobs, products, layers
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Workspace:
    """Every path of one workspace root."""

    root: Path

    @classmethod
    def at(cls, root: str | Path) -> Workspace:
        """A workspace rooted at ``root`` (created lazily by the writers)."""
        return cls(Path(root).expanduser().resolve())

    @property
    def catalog(self) -> Path:
        """The SQLite catalog."""
        return self.root / "catalog.sqlite"

    def archive(self, flight: str) -> Path:
        """Folder of the byte-identical originals of a flight."""
        return self.root / "archive" / flight

    def manifest(self, flight: str) -> Path:
        """Archive manifest: sha256 and status of every delivered file."""
        return self.archive(flight) / "manifest.json"

    def flight_json(self, flight: str) -> Path:
        """The Flight model (captures, control files, problems) as JSON."""
        return self.root / "flights" / f"{flight}.json"

    def quarantine(self, flight: str) -> Path:
        """Folder of files that could not be used, each with a reason file."""
        return self.root / "quarantine" / flight

    def products(self, flight: str) -> Path:
        """Folder of the products of a flight."""
        return self.root / "products" / flight

    def products_json(self, flight: str) -> Path:
        """The list of Product models of a flight."""
        return self.products(flight) / "products.json"

    def qa(self, flight: str) -> Path:
        """Folder of the QA report of a flight."""
        return self.root / "qa" / flight

    @property
    def publish(self) -> Path:
        """Root of everything published."""
        return self.root / "publish"

    @property
    def uploads(self) -> Path:
        """Where HTTP uploads are staged before ingest."""
        return self.root / "uploads"

    def flights(self) -> list[str]:
        """Ids of every ingested flight, sorted."""
        folder = self.root / "flights"
        return sorted(p.stem for p in folder.glob("*.json")) if folder.exists() else []
