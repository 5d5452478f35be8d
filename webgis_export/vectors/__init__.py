"""Vector layers: GeoPackage products published as feature collections (OGC API – Features, WFS, WMS).

:mod:`~webgis_export.vectors.build` publishes one product, :mod:`~webgis_export.vectors.store` is
what the service reads, :mod:`~webgis_export.vectors.query` selects features (GDAL through
pyogrio), :mod:`~webgis_export.vectors.geojson` and :mod:`~webgis_export.vectors.gml` encode them,
:mod:`~webgis_export.vectors.render` draws them for WMS.
"""
