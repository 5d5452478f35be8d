"""Publication: COGs, STAC, static tile pyramids (View1, WebMercatorQuad), legends and the OGC logic.

Entry points: :func:`webgis_export.publish.publish` / ``unpublish``; the service side is
:class:`webgis_export.service.LayerStore` plus :mod:`webgis_export.ogc`.
"""
