"""Privacy of what is published: zones masked out of every publication, people blurred in frames.

- :mod:`~webgis_export.privacy.zones` reads the privacy zones (``DRONEGIS_PRIVACY_ZONES``: any vector
  file pyogrio reads, any CRS, through :func:`pipeline.zonal.read_polygons`) and fingerprints them;
- :mod:`~webgis_export.privacy.raster` masks a staged COG before its style, legend and pyramids are
  made, so every tile, WMS/WMTS answer and the COG itself derive from the masked pixels;
- :mod:`~webgis_export.privacy.features` drops (or, for footprints, clips) features in zones;
- :mod:`~webgis_export.privacy.people` blurs people found by OpenCV's HOG people detector;
- :mod:`~webgis_export.privacy.gate` tells the service which published layers it must withhold
  (published under other zones, or of a flight whose erasure is under way);
- :mod:`~webgis_export.privacy.remask` re-masks what is published when the zones change.

The archive and the products keep the originals; only publications are masked.
"""
