"""The measurement parameters of thermal products, in one spelling everywhere.

Five parameters decide how raw radiance becomes °C (REFERENCE.md §4–5): ``emissivity``,
``reflected_temp_c``, ``atmospheric_temp_c``, ``relative_humidity_pct`` and
``object_distance_m``. Files (``flights.models.ThermalParameters``), the user's overrides
(:class:`ThermalOverrides`), the thermal stage's per-frame record, products
(:class:`ProductThermal`), QA and the published layers use these names; the DJI SDK's names are
mapped once, in ``pipeline.thermal.dji``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from core.models import Frozen

KELVIN = 273.15
ThermalParameter = Literal[
    "emissivity", "reflected_temp_c", "atmospheric_temp_c", "relative_humidity_pct", "object_distance_m"
]
PARAMETERS: tuple[ThermalParameter, ...] = (
    "emissivity",
    "reflected_temp_c",
    "atmospheric_temp_c",
    "relative_humidity_pct",
    "object_distance_m",
)
#: Every value an override may replace (the five parameters and the external optics window).
OVERRIDABLE = (
    "emissivity",
    "object_distance_m",
    "reflected_temp_c",
    "atmospheric_temp_c",
    "ir_window_temp_c",
    "ir_window_transmission",
    "relative_humidity_pct",
)
UNITS: dict[str, str] = {
    "emissivity": "",
    "reflected_temp_c": "°C",
    "atmospheric_temp_c": "°C",
    "relative_humidity_pct": "%",
    "object_distance_m": "m",
}


class ThermalOverrides(Frozen):
    """Per-flight or per-user measurement parameters that replace the file's values.

    ``None`` keeps the value stored in each image. Temperatures in °C, humidity in %.
    """

    emissivity: float | None = Field(default=None, gt=0.0, le=1.0)
    reflected_temp_c: float | None = Field(default=None, gt=-KELVIN)
    atmospheric_temp_c: float | None = Field(default=None, gt=-KELVIN)
    relative_humidity_pct: float | None = Field(default=None, ge=0.0, le=100.0)
    object_distance_m: float | None = Field(
        default=None, ge=0.0, description="fixed distance for every frame"
    )
    ir_window_temp_c: float | None = Field(default=None, gt=-KELVIN)
    ir_window_transmission: float | None = Field(default=None, gt=0.0, le=1.0)
    distance_from_height: bool = Field(
        default=True,
        description="use each frame's distance (height above ground) when no fixed distance is set",
    )

    def is_empty(self) -> bool:
        """True when no value would be overridden."""
        return all(getattr(self, name) is None for name in OVERRIDABLE)


class ThermalValue(Frozen):
    """One parameter of a product: its value (or its range over the frames) and where it came from."""

    min: float
    max: float
    source: str = Field(
        description="file, override, frame (height above ground), default, rangefinder, unsupported; "
        "several joined by ', ' when the frames differ"
    )

    @property
    def value(self) -> float | None:
        """The value when every frame used the same one, else None."""
        return self.min if self.min == self.max else None

    @property
    def text(self) -> str:
        """``0.93``, or ``0.9–0.95`` when the frames differ."""
        return f"{self.min:g}" if self.min == self.max else f"{self.min:g}–{self.max:g}"


class ProductThermal(Frozen):
    """How a thermal product's °C values were made: the parameters used, the overrides, the decoders."""

    emissivity: ThermalValue | None = None
    reflected_temp_c: ThermalValue | None = None
    atmospheric_temp_c: ThermalValue | None = None
    relative_humidity_pct: ThermalValue | None = None
    object_distance_m: ThermalValue | None = None
    overrides: ThermalOverrides = Field(
        default_factory=ThermalOverrides, description="the flight's overrides"
    )
    formats: tuple[str, ...] = Field((), description="file format and decoder, e.g. 'flir-fff (dronegis)'")
    frames: int = Field(1, ge=1, description="thermal frames behind the values")
    raster: str | None = Field(None, description="a single frame's °C raster, relative to the workspace")

    def values(self) -> dict[str, ThermalValue]:
        """The parameters that are known, in :data:`PARAMETERS` order."""
        found: dict[str, ThermalValue | None] = {name: getattr(self, name) for name in PARAMETERS}
        return {name: value for name, value in found.items() if value is not None}
