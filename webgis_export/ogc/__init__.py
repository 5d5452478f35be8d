"""OGC WMS 1.3.0 and WMTS 1.0.0: capabilities documents, request handling and exceptions.

These modules know nothing about HTTP frameworks: they take a mapping of request
parameters and a :class:`webgis_export.service.LayerStore` and return an
:class:`OgcResponse`, or raise :class:`OgcError`.
"""
