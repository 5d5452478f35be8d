"""The workspace: one frozen object that owns every output path.

No other module builds workspace file names (ODM's ``ODM_Tree`` idea). Layout::

    archive/<flight>/...            originals, read-only, manifest.json + flight.json
    quarantine/<flight>/...         unusable files (their reasons in quarantine/<flight>.reasons/)
    products/<flight>/...           COGs, footprints, products.json
    qa/<flight>/report.{json,html}
    publish/                        COGs, STAC, tiles, capabilities, layers.json
    records/                        legal holds, retention and erasure records, access.log
    catalog.sqlite                  flights, jobs, products, layers
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from core.names import fit_name, fit_path


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

    def archived_file(self, flight: str, relpath: str) -> Path:
        """The archived (read-only) copy of one delivered file, by its path in the flight folder.

        Names too long for the file system are stored shortened (:func:`core.names.fit_path`).
        """
        return self.archive(flight) / fit_path(relpath)

    def sample_flight(self) -> Path:
        """Folder of the generated sample flight used by ``dronegis demo``."""
        return self.root / "samples" / "skanderborg-demo"

    def quarantine(self, flight: str) -> Path:
        """Folder of files that could not be used, each with a reason file."""
        return self.root / "quarantine" / flight

    def products(self, flight: str) -> Path:
        """Folder of the products of a flight."""
        return self.root / "products" / flight

    def products_json(self, flight: str) -> Path:
        """The list of Product models of a flight."""
        return self.products(flight) / "products.json"

    def skipped_json(self, flight: str) -> Path:
        """What the last ``process`` run of a flight could not use, and why (every sub-stage)."""
        return self.products(flight) / "skipped.json"

    def thermal_frame(self, flight: str, relpath: str) -> Path:
        """The float32 °C GeoTIFF of one thermal frame (``relpath`` in the flight folder)."""
        return self.products(flight) / "thermal" / _derived(relpath, "_celsius.tif")

    def thermal_mosaic(self, flight: str) -> Path:
        """The nearest-to-nadir °C mosaic COG of a flight."""
        return self.products(flight) / "thermal_mosaic.tif"

    def thermal_overrides(self, flight: str) -> Path:
        """The per-flight measurement parameters (ThermalOverrides JSON) used for its thermal frames."""
        return self.products(flight) / "thermal" / "overrides.json"

    def thermal_record(self, flight: str) -> Path:
        """What the thermal stage did: overrides, per-frame measurement parameters, failures (JSON)."""
        return self.products(flight) / "thermal" / "measurements.json"

    def raster_cog(self, flight: str, relpath: str) -> Path:
        """The target-CRS COG of a delivered orthophoto/DSM/DTM (``relpath`` in the flight folder)."""
        return self.products(flight) / "rasters" / _derived(relpath, ".tif")

    def frame_cog(self, flight: str, relpath: str) -> Path:
        """The georeferenced COG of one single frame (RGB, or °C for thermal frames)."""
        return self.products(flight) / "frames" / _derived(relpath, ".tif")

    def thumbnail(self, flight: str, relpath: str) -> Path:
        """The JPEG thumbnail of one frame (photo-points layer)."""
        return self.products(flight) / "thumbnails" / _derived(relpath, ".jpg")

    def footprints_gpkg(self, flight: str) -> Path:
        """GeoPackage of the frame footprints of a flight (layer ``footprints``)."""
        return self.products(flight) / "footprints.gpkg"

    def photo_points_gpkg(self, flight: str) -> Path:
        """GeoPackage of the camera positions of a flight (layer ``photo_points``)."""
        return self.products(flight) / "photo_points.gpkg"

    def buildings(self, flight: str) -> Path:
        """Folder of the buildings analysis of a flight: ``buildings.gpkg`` (layers ``buildings``,
        ``hot_spots``), ``buildings.json`` and ``cards/<key>.html``."""
        return self.products(flight) / "buildings"

    def qa(self, flight: str) -> Path:
        """Folder of the QA report of a flight."""
        return self.root / "qa" / flight

    def qa_report_json(self, flight: str) -> Path:
        """The QAReport of a flight (qa.models.QAReport as JSON)."""
        return self.qa(flight) / "report.json"

    def qa_conditions(self, flight: str) -> Path:
        """The conditions logged for a flight over the API, as a ``dronegis qa --conditions`` JSON file."""
        return self.qa(flight) / "conditions.json"

    def qa_report_html(self, flight: str) -> Path:
        """The self-contained HTML QA report of a flight."""
        return self.qa(flight) / "report.html"

    @property
    def publish(self) -> Path:
        """Root of everything published."""
        return self.root / "publish"

    @property
    def layers_json(self) -> Path:
        """The list of published Layer models (webgis_export)."""
        return self.publish / "layers.json"

    @property
    def collections_json(self) -> Path:
        """The list of published vector layers, served as feature collections (webgis_export.vectors)."""
        return self.publish / "collections.json"

    def published_layer(self, layer_id: str) -> Path:
        """Folder of one published layer: COG, legend and its WMTS RESTful tile tree."""
        return self.publish / "layers" / layer_id

    @property
    def published_stac(self) -> Path:
        """Folder of the published STAC catalog (catalog.json at its root)."""
        return self.publish / "stac"

    @property
    def job_lock(self) -> Path:
        """Lock file held by the one process that runs jobs (and writes the catalog's job rows)."""
        return self.root / "jobs.lock"

    @property
    def uploads(self) -> Path:
        """Where HTTP uploads are staged before ingest."""
        return self.root / "uploads"

    def upload(self, flight: str) -> Path:
        """Completed uploaded files of a flight (the ingest stage's source folder)."""
        return self.uploads / flight / "files"

    def upload_partial(self, flight: str) -> Path:
        """Upload sessions of a flight (``<id>.part`` bytes and ``<id>.json``), moved into :meth:`upload` when
        complete."""
        return self.uploads / flight / "partial"

    def upload_versions(self, flight: str) -> Path:
        """Uploaded files replaced explicitly, kept under ``<upload id>/<path>`` of the replacing upload."""
        return self.uploads / flight / "versions"

    def upload_index(self, flight: str) -> Path:
        """The uploaded files of a flight with their sha256, sizes and replaced versions (JSON)."""
        return self.uploads / flight / "index.json"

    @property
    def records(self) -> Path:
        """Privacy records: legal holds, retention and erasure records, the access log."""
        return self.root / "records"

    def hold(self, flight: str) -> Path:
        """The legal hold of a flight (with its history of holds and releases)."""
        return self.records / "holds" / f"{flight}.json"

    def retention_record(self, flight: str) -> Path:
        """What retention deleted of a flight: files, checksums, terms (JSON)."""
        return self.records / "retention" / f"{flight}.json"

    @property
    def erasures(self) -> Path:
        """Erasure records (``<id>.json``) and the journals of erasures under way (``<id>.journal.json``)."""
        return self.records / "erasures"

    @property
    def access_log(self) -> Path:
        """The append-only, hash-chained access log (JSON lines)."""
        return self.records / "access.log"

    def flights(self) -> list[str]:
        """Ids of every ingested flight, sorted."""
        folder = self.root / "flights"
        return sorted(p.stem for p in folder.glob("*.json")) if folder.exists() else []


def _derived(relpath: str, ending: str) -> str:
    """``<folder>/<stem><ending>`` of a delivered file, every part within the file system's limit."""
    rel = PurePosixPath(relpath)
    name = fit_name(f"{rel.stem}{ending}")
    return name if str(rel.parent) == "." else f"{fit_path(str(rel.parent))}/{name}"
