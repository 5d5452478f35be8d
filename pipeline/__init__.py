"""From captures to products: georeferencing, GCP fits, orthophotos, thermal, jobs, catalog.

May import :mod:`flights`; never :mod:`qa`, :mod:`webgis_export` or :mod:`dronegis`.
"""
