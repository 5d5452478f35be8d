"""The WFS 2.0.0 capabilities document: the feature types the caller may see and what we implement.

The basic WFS conformance class over KVP GET: GetCapabilities, DescribeFeatureType and
GetFeature with TYPENAMES, BBOX, COUNT/STARTINDEX (``ImplementsResultPaging``, ``CountDefault``),
SRSNAME, RESULTTYPE and OUTPUTFORMAT (GML 3.2 and GeoJSON). No transactions, locks, joins,
stored queries beyond the mandatory one, nor FES filters (``ImplementsMinSpatialFilter`` is
FALSE, so clients send the BBOX parameter rather than a filter). Feature types are named
``dronegis:<type name>`` (:func:`webgis_export.vectors.gml.type_name`).
"""

from __future__ import annotations

from collections.abc import Sequence

from webgis_export.ogc.capabilities import with_token
from webgis_export.ogc.feature_texts import describe
from webgis_export.ogc.xmltree import OWS, XLINK, Element, document, href, num, serialise, sub
from webgis_export.vectors.crs import epsg_uri, urn
from webgis_export.vectors.gml import GML, NAMESPACE, PREFIX, WFS, type_name
from webgis_export.vectors.models import VectorLayer

FES = "http://www.opengis.net/fes/2.0"
COUNT_DEFAULT = 10_000
GML32 = "application/gml+xml; version=3.2"
GML32_ALIASES = frozenset(
    {
        "application/gml+xml; version=3.2",
        "application/gml+xml;version=3.2",
        "text/xml; subtype=gml/3.2",
        "gml32",
    }
)
JSON_FORMATS = frozenset({"application/json", "application/geo+json", "json", "geojson"})
OUTPUT_FORMATS = (GML32, "text/xml; subtype=gml/3.2", "application/json")
TRUE_CONSTRAINTS = ("ImplementsBasicWFS", "KVPEncoding", "ImplementsResultPaging")
FALSE_CONSTRAINTS = (
    "ImplementsTransactionalWFS",
    "ImplementsLockingWFS",
    "XMLEncoding",
    "SOAPEncoding",
    "ImplementsInheritance",
    "ImplementsRemoteResolve",
    "ImplementsStandardJoins",
    "ImplementsSpatialJoins",
    "ImplementsTemporalJoins",
    "ImplementsFeatureVersioning",
    "ManageStoredQueries",
)
FES_TRUE = ("ImplementsQuery", "ImplementsAdHocQuery")
FES_FALSE = (
    "ImplementsFunctions",
    "ImplementsResourceId",
    "ImplementsMinStandardFilter",
    "ImplementsStandardFilter",
    "ImplementsMinSpatialFilter",
    "ImplementsSpatialFilter",
    "ImplementsMinTemporalFilter",
    "ImplementsTemporalFilter",
    "ImplementsVersionNav",
    "ImplementsSorting",
    "ImplementsExtendedOperators",
    "ImplementsMinimumXPath",
    "ImplementsSchemaElementFunc",
)


def wfs_capabilities(layers: Sequence[VectorLayer], base_url: str, token: str | None = None) -> bytes:
    """The WFS 2.0.0 capabilities XML for ``layers``."""
    q, o = f"{{{WFS}}}", f"{{{OWS}}}"
    root = document(
        f"{q}WFS_Capabilities",
        WFS,
        {"wfs": WFS, "ows": OWS, "xlink": XLINK, "fes": FES, "gml": GML, PREFIX: NAMESPACE},
        "http://schemas.opengis.net/wfs/2.0/wfs.xsd",
        version="2.0.0",
    )
    ident = sub(root, f"{o}ServiceIdentification")
    sub(ident, f"{o}Title", "dronegis – vektordata / vector data (Skanderborg Kommune)")
    sub(ident, f"{o}Abstract", "Footprints, photo points and analysis results of drone flights.")
    sub(ident, f"{o}ServiceType", "WFS")
    sub(ident, f"{o}ServiceTypeVersion", "2.0.0")
    sub(ident, f"{o}Fees", "NONE")
    sub(ident, f"{o}AccessConstraints", "NONE")
    sub(sub(root, f"{o}ServiceProvider"), f"{o}ProviderName", "Skanderborg Kommune")
    _operations(sub(root, f"{o}OperationsMetadata"), with_token(f"{base_url}/wfs?", token))
    types = sub(root, f"{q}FeatureTypeList")
    for layer in layers:
        _feature_type(types, layer)
    _filter_capabilities(root)
    return serialise(root)


def _allowed(parent: Element, name: str, values: Sequence[str]) -> None:
    o = f"{{{OWS}}}"
    allowed = sub(sub(parent, f"{o}Parameter", name=name), f"{o}AllowedValues")
    for value in values:
        sub(allowed, f"{o}Value", value)


def _constraint(parent: Element, name: str, value: str, ns: str = OWS) -> None:
    node = sub(parent, f"{{{ns}}}Constraint", name=name)
    sub(node, f"{{{OWS}}}NoValues")
    sub(node, f"{{{OWS}}}DefaultValue", value)


def _operations(metadata: Element, endpoint: str) -> None:
    o = f"{{{OWS}}}"
    for name in ("GetCapabilities", "DescribeFeatureType", "GetFeature"):
        operation = sub(metadata, f"{o}Operation", name=name)
        href(sub(sub(operation, f"{o}DCP"), f"{o}HTTP"), f"{o}Get", endpoint)
        if name == "GetCapabilities":
            _allowed(operation, "AcceptVersions", ("2.0.0",))
        if name == "DescribeFeatureType":
            _allowed(operation, "outputFormat", (GML32, "text/xml; subtype=gml/3.2"))
        if name == "GetFeature":
            _allowed(operation, "outputFormat", OUTPUT_FORMATS)
            _allowed(operation, "resultType", ("results", "hits"))
    for name in TRUE_CONSTRAINTS:
        _constraint(metadata, name, "TRUE")
    for name in FALSE_CONSTRAINTS:
        _constraint(metadata, name, "FALSE")
    _constraint(metadata, "CountDefault", str(COUNT_DEFAULT))


def _feature_type(parent: Element, layer: VectorLayer) -> None:
    q, o = f"{{{WFS}}}", f"{{{OWS}}}"
    node = sub(parent, f"{q}FeatureType")
    sub(node, f"{q}Name", f"{PREFIX}:{type_name(layer.id)}")
    sub(node, f"{q}Title", layer.title)
    sub(node, f"{q}Abstract", describe(layer, "da") + " / " + describe(layer, "en"))
    sub(node, f"{q}DefaultCRS", urn(epsg_uri(layer.crs)))
    formats = sub(node, f"{q}OutputFormats")
    for fmt in OUTPUT_FORMATS:
        sub(formats, f"{q}Format", fmt)
    if layer.bounds_wgs84 is not None:
        west, south, east, north = layer.bounds_wgs84
        box = sub(node, f"{o}WGS84BoundingBox")
        sub(box, f"{o}LowerCorner", f"{num(west)} {num(south)}")
        sub(box, f"{o}UpperCorner", f"{num(east)} {num(north)}")


def _filter_capabilities(root: Element) -> None:
    f = f"{{{FES}}}"
    capabilities = sub(root, f"{f}Filter_Capabilities")
    conformance = sub(capabilities, f"{f}Conformance")
    for name in FES_TRUE:
        _constraint(conformance, name, "TRUE", FES)
    for name in FES_FALSE:
        _constraint(conformance, name, "FALSE", FES)
