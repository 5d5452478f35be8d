"""dronegis: drone and GIS pipeline for Skanderborg Kommune."""

__version__ = "0.1.0"
