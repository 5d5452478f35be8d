"""The ``thermal.parameters`` check: the measurement parameters behind a flight's °C values.

Temperatures from a radiometric camera are only as good as the emissivity, reflected
temperature, air temperature, humidity and object distance used to compute them
(REFERENCE.md §5). The check reports the parameters each thermal frame was converted
with and where each came from (``file``, ``override``, ``frame`` height, ``default``,
``rangefinder``), read from the thermal stage's record (``Workspace.thermal_record``)
and, when there is none, from the ``thermal`` of the thermal products.

Status: ``warn`` when, on a building-inspection flight, the emissivity was not set or
is the file's default 1.0 (a black body: building surfaces are 0.85–0.95), or when a
parameter differs between frames of the flight; ``pass`` otherwise; ``skip`` when the
flight has no converted thermal frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flights.models import Purpose
from pipeline.models import Product, ProductKind
from pipeline.models.thermal import PARAMETERS, UNITS
from pipeline.thermal.parameters import used_parameters
from qa.models import CheckResult, Status

CHECK_ID = "thermal.parameters"
TITLE = "Thermography measurement parameters"
UNTRUSTED_SOURCES = frozenset({"file", "default"})
THERMAL_PRODUCTS = (ProductKind.THERMAL_FRAME, ProductKind.THERMAL_MOSAIC)


def thermal_parameters_check(
    record: Mapping[str, Any], products: Sequence[Product], purpose: Purpose | str
) -> CheckResult:
    """The ``thermal.parameters`` check of one flight.

    Args:
        record: the thermal stage's record (``measurements.json``; empty when absent).
        products: the flight's products (thermal ones carry ``Product.thermal``).
        purpose: the flight's purpose (building inspection is held to the emissivity rule).
    """
    frames = record.get("frames") if isinstance(record.get("frames"), Mapping) else None
    per_frame = [used_parameters(m) for m in frames.values() if isinstance(m, Mapping)] if frames else []
    if not per_frame:
        per_frame = _from_products(products)
    if not per_frame:
        return CheckResult.skipped(CHECK_ID, TITLE, "no converted thermal frame and no thermal product")
    values, sources, differing = _summarise(per_frame)
    overrides = record.get("overrides") if isinstance(record.get("overrides"), Mapping) else {}
    figures: dict[str, object] = {
        "parameters": values,
        "sources": sources,
        "units": {name: UNITS[name] for name in values},
        "overrides": {k: v for k, v in (overrides or {}).items() if v is not None and k in UNITS},
        "frames": len(per_frame),
        "differing": differing,
    }
    for name in ("emissivity", "reflected_temp_c"):
        if name in values:
            figures[name] = values[name]
            figures[f"{name}_source"] = sources[name]
    status, findings = _verdict(values, sources, differing, Purpose(str(purpose)))
    return CheckResult(id=CHECK_ID, title=TITLE, status=status, figures=figures, message="; ".join(findings))


def _from_products(products: Sequence[Product]) -> list[tuple[dict[str, float], dict[str, str]]]:
    """(values, sources) of each thermal frame product (else each mosaic: its min and max ends)."""
    chosen = [p for p in products if p.kind == ProductKind.THERMAL_FRAME] or [
        p for p in products if p.kind == ProductKind.THERMAL_MOSAIC
    ]
    out = []
    for product in chosen:
        if product.thermal is None:
            continue
        used = product.thermal.values()
        low = {name: value.min for name, value in used.items()}
        high = {name: value.max for name, value in used.items()}
        sources = {name: value.source for name, value in used.items()}
        out.append((low, sources))
        if high != low:
            out.append((high, sources))
    return out


def _summarise(
    per_frame: Sequence[tuple[dict[str, float], dict[str, str]]],
) -> tuple[dict[str, object], dict[str, str], list[str]]:
    """Each parameter's value (or min/max when frames differ), its sources, and the differing names."""
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    differing: list[str] = []
    for name in PARAMETERS:
        seen = [v[name] for v, _ in per_frame if name in v]
        if not seen:
            continue
        low, high = min(seen), max(seen)
        values[name] = low if low == high else {"min": low, "max": high}
        if low != high:
            differing.append(name)
        sources[name] = ", ".join(sorted({s[name] for _, s in per_frame if name in s}))
    return values, sources, differing


def _verdict(
    values: Mapping[str, object], sources: Mapping[str, str], differing: Sequence[str], purpose: Purpose
) -> tuple[Status, list[str]]:
    findings: list[str] = []
    warn = False
    emissivity = values.get("emissivity")
    source = sources.get("emissivity", "")
    inspection = purpose == Purpose.BUILDING_INSPECTION
    if emissivity is None:
        findings.append("emissivity not recorded in the frames and not set as an override")
        warn = warn or inspection
    elif emissivity == 1.0 and set(source.split(", ")) <= UNTRUSTED_SOURCES:
        findings.append(f"emissivity 1.0 from the {source} (a black body; set the surface's emissivity)")
        warn = warn or inspection
    for name in differing:
        span = values[name]
        assert isinstance(span, Mapping)
        findings.append(f"{name} differs between frames: {span['min']:g}–{span['max']:g} ({sources[name]})")
        warn = True
    summary = ", ".join(
        f"{name}={_text(value)}{UNITS[name]} ({sources[name]})" for name, value in values.items()
    )
    findings.append(f"used: {summary}")
    return ("warn" if warn else "pass"), findings


def _text(value: object) -> str:
    if isinstance(value, Mapping):
        return f"{value['min']:g}–{value['max']:g}"
    return f"{value:g}" if isinstance(value, float) else str(value)
