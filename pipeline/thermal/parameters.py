"""How a thermal product's °C values were made: the parameters of its frames, in one spelling.

The thermal stage records, per frame, the parameters its decoder used (``measurements.json``,
:mod:`pipeline.thermal.stage`); :func:`used_parameters` reads one record, :func:`product_thermal`
states a product's parameters (each value, or its range over the frames, with every source seen)
and :func:`merge_thermal` those of a product made of several (the mosaic).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.models.thermal import PARAMETERS, ProductThermal, ThermalOverrides, ThermalValue


def used_parameters(measurement: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, str]]:
    """The measurement parameters of one frame record (:data:`~pipeline.models.thermal.PARAMETERS`), and
    the source of each.

    Sources are ``file``, ``override``, ``frame`` (height above ground), ``default``, and for DJI
    frames also ``rangefinder`` or ``unsupported``. Radiometric TIFFs carry none.
    """
    given = measurement.get("sources")
    sources = given if isinstance(given, Mapping) else {}
    values: dict[str, float] = {}
    used: dict[str, str] = {}
    for name in PARAMETERS:
        value = measurement.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            values[name] = float(value)
            used[name] = str(sources.get(name, "file"))
    return values, used


def _decoder(measurement: Mapping[str, Any]) -> str:
    return f"{measurement.get('format')} ({measurement.get('decoder', 'dronegis')})"


def product_thermal(
    measurements: Sequence[Mapping[str, Any]], overrides: ThermalOverrides, *, raster: str | None = None
) -> ProductThermal:
    """How a thermal product's °C values were made, from the records of its frames.

    Each parameter is its value, or its range when the frames differ, with every source seen.
    """
    per_frame = [used_parameters(m) for m in measurements]
    values: dict[str, ThermalValue] = {}
    for name in PARAMETERS:
        seen = [v[name] for v, _ in per_frame if name in v]
        if seen:
            source = ", ".join(sorted({s[name] for _, s in per_frame if name in s}))
            values[name] = ThermalValue(min=min(seen), max=max(seen), source=source)
    return ProductThermal.model_validate(
        {
            **values,
            "overrides": overrides,
            "formats": tuple(sorted({_decoder(m) for m in measurements})),
            "frames": max(1, len(measurements)),
            "raster": raster,
        }
    )


def merge_thermal(parts: Sequence[ProductThermal], overrides: ThermalOverrides) -> ProductThermal:
    """The parameters of a product made of several thermal products (a mosaic of frames)."""
    values: dict[str, ThermalValue] = {}
    for name in PARAMETERS:
        seen = [v for v in (getattr(p, name) for p in parts) if v is not None]
        if seen:
            sources = {s for v in seen for s in v.source.split(", ")}
            low, high = min(v.min for v in seen), max(v.max for v in seen)
            values[name] = ThermalValue(min=low, max=high, source=", ".join(sorted(sources)))
    return ProductThermal.model_validate(
        {
            **values,
            "overrides": overrides,
            "formats": tuple(sorted({f for p in parts for f in p.formats})),
            "frames": sum(p.frames for p in parts),
        }
    )
