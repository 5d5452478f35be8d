"""GML 3.2 for WFS 2.0: GDAL's GML driver writes the features and their schema, lxml the envelope.

GDAL (through pyogrio) encodes each page as GML 3.2 (``FORMAT=GML3.2``, URN ``srsName``s,
feature types in the ``dronegis`` namespace) and writes the matching XML Schema, so what
``DescribeFeatureType`` answers is exactly what ``GetFeature`` returns. GDAL's own envelope is
an ``ogr``-style collection with ``featureMember``s and 0-based ``gml:id``s; each feature is
moved into a ``wfs:member`` of a ``wfs:FeatureCollection`` (with ``numberMatched``,
``numberReturned`` and ``timeStamp``) and given the id the services use (``<type>.<fid>``).
Feature type names are the layer ids made into XML names (``f1-footprints`` →
``f1_footprints``; GDAL's own rule, plus an underscore before a leading digit).
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from lxml import etree

from webgis_export.vectors.columns import typed
from webgis_export.vectors.crs import reproject
from webgis_export.vectors.models import FieldInfo, VectorLayer
from webgis_export.vectors.query import FeaturePage

NAMESPACE = "urn:dronegis:features"
PREFIX = "dronegis"
GML = "http://www.opengis.net/gml/3.2"
WFS = "http://www.opengis.net/wfs/2.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XS = "http://www.w3.org/2001/XMLSchema"
WFS_SCHEMA = "http://schemas.opengis.net/wfs/2.0/wfs.xsd"
GML_SCHEMA = "http://schemas.opengis.net/gml/3.2.1/gml.xsd"
GML_ID = f"{{{GML}}}id"
OPTIONS = {"FORMAT": "GML3.2", "SRSNAME_FORMAT": "OGC_URN", "PREFIX": PREFIX, "TARGET_NAMESPACE": NAMESPACE}


def type_name(layer_id: str) -> str:
    """The XML name of a layer's feature type (an NCName GDAL keeps as it is)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", layer_id)
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"


def _write(
    target: str | io.BytesIO,
    name: str,
    layer: VectorLayer,
    geometries: np.ndarray,
    columns: Sequence[np.ndarray],
    crs: str,
    **options: str,
) -> None:
    """GDAL's GML driver: ``geometries`` (in ``crs``) and typed columns as feature type ``name``."""
    fields: tuple[FieldInfo, ...] = layer.fields
    pairs = [typed(info, column) for info, column in zip(fields, columns, strict=True)]
    pyogrio.raw.write(
        target,
        shapely.to_wkb(geometries) if len(geometries) else np.array([], dtype=object),
        [values for values, _ in pairs],
        np.array([f.name for f in fields], dtype=object),
        field_mask=[mask for _, mask in pairs],
        layer=name,
        driver="GML",
        geometry_type=layer.geometry_type,
        crs=crs,
        encoding="UTF-8",
        **OPTIONS,
        **options,
    )


def members(page: FeaturePage, layer: VectorLayer, crs: str) -> list[etree._Element]:
    """The page's features as GML 3.2 feature elements (coordinates in ``crs``, ``EPSG:n``)."""
    name = type_name(layer.id)
    buffer = io.BytesIO()
    geometries = reproject(page.geometries, layer.crs, crs)
    _write(buffer, name, layer, geometries, page.columns, crs, WRITE_FEATURE_BOUNDED_BY="NO")
    root = etree.fromstring(buffer.getvalue(), etree.XMLParser(huge_tree=True, remove_blank_text=True))
    features = [member[0] for member in root.iterchildren(f"{{{NAMESPACE}}}featureMember")]
    for fid, feature in zip(page.fids.tolist(), features, strict=True):
        feature.set(GML_ID, f"{name}.{fid}")
        for number, part in enumerate(feature.iter(f"{{{GML}}}*")):
            if part.get(GML_ID) is not None:
                part.set(GML_ID, f"{name}.{fid}.g{number}")
    return features


def feature_collection(
    features: Iterable[etree._Element], matched: int, returned: int, schema_url: str
) -> bytes:
    """A WFS 2.0 ``wfs:FeatureCollection`` of the features (each in a ``wfs:member``)."""
    location = f"{WFS} {WFS_SCHEMA} {GML} {GML_SCHEMA} {NAMESPACE} {schema_url}"
    root = etree.Element(
        f"{{{WFS}}}FeatureCollection",
        {
            f"{{{XSI}}}schemaLocation": location,
            "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "numberMatched": str(matched),
            "numberReturned": str(returned),
        },
        nsmap={"wfs": WFS, "gml": GML, PREFIX: NAMESPACE, "xsi": XSI},
    )
    for feature in features:
        etree.SubElement(root, f"{{{WFS}}}member").append(feature)
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return body


def schema(layers: Sequence[tuple[VectorLayer, str]]) -> bytes:
    """The XML Schema of the given feature types (``(layer, storage-CRS)`` pairs), from GDAL."""
    documents = [etree.fromstring(_type_schema(layer.model_dump_json(), crs)) for layer, crs in layers]
    root = documents[0]
    for child in list(root):
        if child.tag == f"{{{XS}}}annotation" or child.get("name") in (
            "FeatureCollection",
            "FeatureCollectionType",
        ):
            root.remove(child)
    for document in documents[1:]:
        for child in document:
            if child.tag in (f"{{{XS}}}element", f"{{{XS}}}complexType") and not child.get(
                "name", ""
            ).startswith("FeatureCollection"):
                root.append(child)
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return body


@lru_cache(maxsize=128)
def _type_schema(layer_json: str, crs: str) -> bytes:
    """GDAL's XSD for one layer (written beside an empty GML file), cached per published layer."""
    layer = VectorLayer.model_validate_json(layer_json)
    columns = [np.empty(0, dtype=_EMPTY[f.type]) for f in layer.fields]
    with tempfile.TemporaryDirectory(prefix="dronegis-xsd-") as folder:
        target = Path(folder) / "schema.gml"
        _write(str(target), type_name(layer.id), layer, np.array([], dtype=object), columns, crs)
        return target.with_suffix(".xsd").read_bytes()


_EMPTY = {
    "string": object,
    "integer": "int64",
    "number": "float64",
    "boolean": bool,
    "date": "datetime64[D]",
    "datetime": "datetime64[ms]",
}
