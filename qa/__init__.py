"""Quality assurance: precision, image quality, coverage, freshness, thermography conditions."""
