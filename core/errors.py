"""The one error tree of dronegis.

It lives on the lowest floor so that every package can raise and catch it. Every
message names the file or object and the offending value. Where callers would
naturally catch a builtin, the class inherits it too (like rasterio's errors).
"""

from collections.abc import Mapping


class DroneGisError(Exception):
    """Root of every error dronegis raises on purpose."""


class UsageError(DroneGisError, ValueError):
    """A caller passed options that do not fit together."""


class IngestError(DroneGisError):
    """A delivered file or folder cannot be ingested."""


class MetadataError(IngestError, ValueError):
    """EXIF, XMP or maker metadata of a file is missing or malformed."""


class ImageDecodeError(IngestError, ValueError):
    """The pixels of a frame cannot be decoded (for the image-quality pass)."""


class ImplausibleImageError(MetadataError):
    """A frame's header announces more pixels than a camera frame has (a decoder bomb); never decoded."""


class FileChangedError(IngestError):
    """A delivered file changed (grew, shrank, was rewritten) while it was being copied."""


class ControlFileError(IngestError, ValueError):
    """A GCP, check-point, geo.txt or MRK file is malformed."""


class FlightFileError(IngestError, ValueError):
    """A flight's JSON (``flights/<id>.json``) is missing or does not hold a Flight."""


class RasterError(MetadataError):
    """A delivered raster has no usable georeference or impossible dimensions."""


class AreaError(IngestError, ValueError):
    """An AOI or municipality file cannot be read or holds no polygon."""


class ArchiveError(IngestError, OSError):
    """The archive or quarantine could not be written."""


class GeoreferenceError(DroneGisError, ValueError):
    """A product cannot be georeferenced (no CRS, implausible transform, bad fit)."""


class RasterWriteError(DroneGisError, OSError):
    """GDAL could not write a raster product (COG)."""


class ProductsFileError(DroneGisError, ValueError):
    """A flight's ``products.json`` is unreadable or holds a key or value the product model refuses."""


class ThermalError(DroneGisError, ValueError):
    """A thermal file cannot be decoded or converted to temperature."""


class DecoderUnavailable(ThermalError):
    """An optional decoder (such as the ``dronegis[dji]`` extra) is not installed."""


class AnalysisError(DroneGisError, ValueError):
    """An analysis (zonal statistics, buildings, vegetation, volumes) cannot run on its inputs."""


class PolygonLayerError(AnalysisError):
    """A polygon layer cannot be used: unreadable, no CRS, no polygon, unknown id field."""


class RasterInputError(AnalysisError):
    """An analysis raster is unusable: no CRS, rotated grid, wrong bands or units (e.g. not °C)."""


class SurfaceFitError(AnalysisError):
    """A plane or surface cannot be fitted to the given heights (too few or collinear points)."""


class HeightDatumError(AnalysisError):
    """Two height rasters measured together are in vertical datums that cannot be brought together."""


class ChangeError(AnalysisError):
    """Two rasters cannot be compared for change (kinds differ, no common data)."""


class NoOverlapError(ChangeError):
    """Two rasters to compare share no area with data."""


class CoregistrationError(ChangeError):
    """Two rasters cannot be matched (low correlation) or their shift exceeds the tolerance."""


class CatalogueError(DroneGisError, KeyError):
    """A message key is missing from the catalogue, lacks a language, or its parameters do not fit."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "message catalogue error"


class UserInputError(UsageError):
    """What a person typed or asked for is refused; the message reaches them in Danish and English.

    ``key`` and ``params`` name the message in the catalogue (``core/messages.toml``);
    ``str(error)`` is the English text, for logs and API clients.
    """

    def __init__(self, message: str, *, key: str, params: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.params = dict(params or {})


class GeocoderError(DroneGisError):
    """The configured address/place search service failed or answered something unreadable."""


class QAError(DroneGisError):
    """A QA check could not be evaluated."""


class ExportError(DroneGisError):
    """A product cannot be published."""


class PublicationRefused(ExportError):
    """A publication gate holds a product: capture date unknown, or outside the municipality."""


class LayerNotFound(ExportError, KeyError):
    """No published layer has that id (or the caller may not see it)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "layer not found"


class JobError(DroneGisError):
    """A background job failed."""


class UnknownRecord(JobError, KeyError):
    """The catalog has no flight or job with that id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown record"


class PrivacyZoneError(ExportError, ValueError):
    """The privacy zones (``DRONEGIS_PRIVACY_ZONES``) cannot be read or applied: publication stops."""


class RecordsError(DroneGisError):
    """Privacy records (retention, legal holds, erasure, access log) cannot be read or written."""


class RetentionPolicyError(RecordsError, ValueError):
    """The retention policy (TOML) is malformed: unknown purpose or category, or a term that is no term."""


class LegalHoldError(RecordsError):
    """A flight is under legal hold (erasure refused), or a hold to release does not exist."""


class ErasureError(RecordsError):
    """A flight cannot be erased (unknown, a job is running) or an erasure journal is unreadable."""


class AccessLogError(RecordsError, ValueError):
    """The access log's hash chain does not verify, or an entry is unreadable (names the line)."""


class UploadError(IngestError, ValueError):
    """An uploaded file or archive is refused (unsafe name, zip bomb, symlink, bad range).

    Like :class:`UserInputError` it may name its message for the pilot in the catalogue
    (``key``, ``params``); ``str(error)`` stays the English technical text.
    """

    def __init__(
        self, message: str, *, key: str = "upload.refused", params: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.key = key
        self.params = dict(params or {})


class UploadTooLarge(UploadError):
    """An upload would exceed the size limit of its flight."""


class UploadConflict(UploadError):
    """An upload does not fit the stored state (wrong resume offset, flight already submitted)."""


class UploadNotFound(UploadError, KeyError):
    """No uploaded file or upload session has that name or id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "upload not found"


class OperationNotSupported(DroneGisError):
    """A service is asked for an operation or format it does not offer (OGC ``OperationNotSupported``)."""


HTTP_STATUS: dict[type[DroneGisError], int] = {
    LayerNotFound: 404,
    UploadNotFound: 404,
    UploadTooLarge: 413,
    UploadConflict: 409,
    UploadError: 400,
    UsageError: 400,
    OperationNotSupported: 501,
    IngestError: 422,
    QAError: 422,
    ExportError: 409,
    JobError: 409,
    GeocoderError: 502,
    DroneGisError: 500,
}
"""The one error -> HTTP status map (titiler's ``DEFAULT_STATUS_CODES``), read by :func:`http_status`.

The JSON API answers every error with it; the OGC services answer with their own exception
documents and the status of the branch their exception code stands for
(:mod:`webgis_export.ogc.exceptions`).
"""


def http_status(error: DroneGisError | type[DroneGisError]) -> int:
    """The HTTP status of an error (or error class): its most specific class in :data:`HTTP_STATUS`."""
    cls = error if isinstance(error, type) else type(error)
    return next((HTTP_STATUS[c] for c in cls.__mro__ if c in HTTP_STATUS), 500)


class DroneGisWarning(UserWarning):
    """Root of the warnings dronegis emits."""


class EllipsoidalHeightWarning(DroneGisWarning):
    """Heights could not be converted to DVR90 and are labelled ellipsoidal."""


class HeightDatumWarning(DroneGisWarning):
    """A DSM/DTM's vertical datum is contradicted (declaration vs file CRS or the DVR90 geoid test)."""


class StaleLayerWarning(DroneGisWarning):
    """A layer is past its freshness limit."""
