"""XML building blocks of the capabilities documents: namespaces, elements, serialisation.

Every document declares its namespaces on its root element, with the service's own
namespace as the default one (``<Capabilities xmlns="http://www.opengis.net/wmts/1.0">``).
QGIS 3.22 reads WMTS element names literally and finds no layer in ``<ns0:Capabilities>``;
with the default namespace it loads both matrix sets. The declarations are per document
(lxml's ``nsmap``), not a process-wide prefix registry, so the WMS and WMTS documents can
each have their own default namespace.
"""

from __future__ import annotations

from lxml import etree

WMS_NS = "http://www.opengis.net/wms"
WMTS_NS = "http://www.opengis.net/wmts/1.0"
OWS = "http://www.opengis.net/ows/1.1"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

type Element = etree._Element  # lxml's element class (documented under this name)


def document(
    tag: str, default_ns: str, prefixes: dict[str | None, str], schema: str, **attrib: str
) -> Element:
    """The root element ``tag``: ``default_ns`` as default namespace, ``prefixes`` declared.

    ``schema`` is the URL of the XML schema of ``default_ns`` (``xsi:schemaLocation``).
    """
    location = {f"{{{XSI}}}schemaLocation": f"{default_ns} {schema}"}
    nsmap: dict[str | None, str] = {None: default_ns, "xsi": XSI, **prefixes}
    return etree.Element(tag, {**attrib, **location}, nsmap=nsmap)


def sub(parent: Element, tag: str, text: str | None = None, **attrib: str) -> Element:
    """A child ``tag`` of ``parent`` with ``text`` and attributes."""
    element = etree.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def href(parent: Element, tag: str, url: str) -> Element:
    """A child ``tag`` carrying a simple XLink to ``url``."""
    return sub(parent, tag, **{f"{{{XLINK}}}type": "simple", f"{{{XLINK}}}href": url})


def num(value: float) -> str:
    """A coordinate as text: ten significant digits, no trailing zeros."""
    return f"{value:.10g}"


def serialise(root: Element) -> bytes:
    """UTF-8 bytes with the XML declaration, indented."""
    etree.indent(root)
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return body
