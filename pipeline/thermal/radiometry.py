"""Raw FLIR counts to °C with the full radiometric model (REFERENCE.md §4.2), pure numpy.

The model (Thermimage ``raw2temp``): Planck constants R1, R2, B, F, O; emissivity;
reflected apparent temperature; object distance with atmospheric transmission from
air temperature and relative humidity (constants ATA1, ATA2, ATB1, ATB2, ATX); an
external optics window with its own temperature and transmission, assumed to sit
half-way so that both atmospheric paths have the same transmission τ.

Everything that does not depend on the pixel is folded into two constants, so a
pixel costs ``raw_obj = S·gain − offset`` and one ``log``; for large uint16 frames
the conversion goes through a lookup table of the same formula over the frame's
count range.
No file I/O here.
"""

from __future__ import annotations

import logging
import math
from typing import Literal, NamedTuple

import numpy as np
from pydantic import Field

from core.errors import ThermalError
from core.models import Frozen
from flights.models import ThermalParameters
from pipeline.models.thermal import KELVIN, OVERRIDABLE, ThermalOverrides

log = logging.getLogger(__name__)

LUT_MIN_PIXELS = 1 << 12
LUT_CHUNK = 1 << 13  # pixels looked up at a time: their index buffer (64 kB) is reused, not mapped anew

# Thermimage's defaults, used where a file does not carry a value.
DEFAULTS: dict[str, float] = {
    "emissivity": 1.0,
    "object_distance_m": 1.0,
    "reflected_temp_c": 20.0,
    "relative_humidity_pct": 50.0,
    "ir_window_transmission": 1.0,
    "ata1": 0.006569,
    "ata2": 0.01262,
    "atb1": -0.002276,
    "atb2": -0.00667,
    "atx": 1.9,
}
PLANCK = ("planck_r1", "planck_r2", "planck_b", "planck_f", "planck_o")

Source = Literal["file", "override", "frame", "default"]


class MeasurementParameters(Frozen):
    """The parameters a conversion actually uses, and where each value came from."""

    planck_r1: float
    planck_r2: float
    planck_b: float
    planck_f: float
    planck_o: float
    emissivity: float = Field(gt=0.0, le=1.0)
    object_distance_m: float = Field(ge=0.0)
    reflected_temp_c: float
    atmospheric_temp_c: float
    ir_window_temp_c: float
    ir_window_transmission: float = Field(gt=0.0, le=1.0)
    relative_humidity_pct: float = Field(ge=0.0, le=100.0)
    ata1: float = DEFAULTS["ata1"]
    ata2: float = DEFAULTS["ata2"]
    atb1: float = DEFAULTS["atb1"]
    atb2: float = DEFAULTS["atb2"]
    atx: float = DEFAULTS["atx"]
    sources: dict[str, Source] = Field(
        default_factory=dict, description="field -> file|override|frame|default"
    )

    @classmethod
    def from_thermal(
        cls,
        params: ThermalParameters,
        overrides: ThermalOverrides | None = None,
        *,
        frame_distance_m: float | None = None,
    ) -> MeasurementParameters:
        """The file's values overridden by ``overrides`` (and the frame's distance).

        Distance precedence: a fixed ``overrides.object_distance_m``; else
        ``frame_distance_m`` (the frame's height above ground) when
        ``overrides.distance_from_height``; else the file's; else 1 m.

        Raises:
            ThermalError: the file has no Planck constants or a value is out of range.
        """
        overrides = overrides or ThermalOverrides()
        missing = [name for name in PLANCK if getattr(params, name) is None]
        if missing:
            raise ThermalError(f"missing Planck constants {', '.join(missing)} in {params.format or 'file'}")
        values: dict[str, float] = {name: float(getattr(params, name)) for name in PLANCK}
        sources: dict[str, Source] = dict.fromkeys(PLANCK, "file")
        for name in (*OVERRIDABLE, "ata1", "ata2", "atb1", "atb2", "atx"):
            values[name], sources[name] = _pick(name, params, overrides, values)
        if (
            overrides.object_distance_m is None
            and overrides.distance_from_height
            and frame_distance_m is not None
        ):
            values["object_distance_m"], sources["object_distance_m"] = float(frame_distance_m), "frame"
        try:
            return cls.model_validate({**values, "sources": sources})
        except ValueError as exc:
            raise ThermalError(f"measurement parameters out of range: {exc}") from exc

    def with_overrides(self, overrides: ThermalOverrides) -> MeasurementParameters:
        """These parameters with the non-empty override values applied."""
        update: dict[str, object] = {}
        sources = dict(self.sources)
        for name in OVERRIDABLE:
            value = getattr(overrides, name)
            if value is not None:
                update[name] = float(value)
                sources[name] = "override"
        return self.model_validate({**self.model_dump(), **update, "sources": sources})


def _pick(
    name: str, params: ThermalParameters, overrides: ThermalOverrides, chosen: dict[str, float]
) -> tuple[float, Source]:
    override = getattr(overrides, name, None)
    if override is not None:
        return float(override), "override"
    stored = getattr(params, name)
    if stored is not None:
        return float(stored), "file"
    if name in ("atmospheric_temp_c", "ir_window_temp_c"):
        return chosen["reflected_temp_c"], "default"
    return DEFAULTS[name], "default"


class RadiometricConstants(NamedTuple):
    """Per-image constants: ``raw_obj = raw * gain - offset``; Planck R1, R2·, B, F, O."""

    gain: float
    offset: float
    r1: float
    r2: float
    b: float
    f: float
    o: float


def atmospheric_transmission(p: MeasurementParameters) -> float:
    """τ of the air path (REFERENCE.md §4.2 steps 1–2)."""
    t = p.atmospheric_temp_c
    h2o = (p.relative_humidity_pct / 100.0) * math.exp(
        1.5587 + 0.06939 * t - 0.00027816 * t**2 + 0.00000068455 * t**3
    )
    root = math.sqrt(p.object_distance_m / 2.0)
    sq = math.sqrt(h2o)
    return p.atx * math.exp(-root * (p.ata1 + p.atb1 * sq)) + (1.0 - p.atx) * math.exp(
        -root * (p.ata2 + p.atb2 * sq)
    )


def blackbody_raw(p: MeasurementParameters, temp_c: float) -> float:
    """Raw signal of a blackbody at ``temp_c`` (REFERENCE.md §4.2 step 3)."""
    return p.planck_r1 / (p.planck_r2 * (math.exp(p.planck_b / (temp_c + KELVIN)) - p.planck_f)) - p.planck_o


def constants(p: MeasurementParameters) -> RadiometricConstants:
    """Fold emissivity, atmosphere, window and reflections into a gain and an offset."""
    e, irt = p.emissivity, p.ir_window_transmission
    tau = atmospheric_transmission(p)
    raw_refl = blackbody_raw(p, p.reflected_temp_c)
    raw_atm = blackbody_raw(p, p.atmospheric_temp_c)
    raw_win = blackbody_raw(p, p.ir_window_temp_c)
    offset = (
        (1.0 - e) / e * raw_refl
        + (1.0 - tau) / (e * tau) * raw_atm
        + (1.0 - irt) / (e * tau * irt) * raw_win
        + (1.0 - tau) / (e * tau * irt * tau) * raw_atm
    )
    gain = 1.0 / (e * tau * irt * tau)
    return RadiometricConstants(gain, offset, p.planck_r1, p.planck_r2, p.planck_b, p.planck_f, p.planck_o)


def _planck_inverse(raw_obj: np.ndarray, c: RadiometricConstants) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return c.b / np.log(c.r1 / (c.r2 * (raw_obj + c.o)) + c.f) - KELVIN


def _look_up(lut: np.ndarray, raw: np.ndarray, low: int) -> np.ndarray:
    """``lut[raw - low]``, a chunk at a time.

    ``take`` turns its indices into a pointer-sized array first: for a whole 640×512 frame
    that is a fresh 2.6 MB buffer, page-faulted in and unmapped again for every frame
    (over half the page faults of ``dronegis thermal`` on 200 frames). Chunks of
    :data:`LUT_CHUNK` pixels keep the index buffer small enough to be reused. The indices
    lie in the table by construction; ``mode="clip"`` spares the copy of ``out`` that
    ``take`` makes in its default mode (``raise``) to leave ``out`` untouched on an error.
    """
    counts = np.ascontiguousarray(raw).reshape(-1)
    celsius = np.empty(counts.size, dtype=np.float32)
    for start in range(0, counts.size, LUT_CHUNK):
        index = np.subtract(counts[start : start + LUT_CHUNK], low, dtype=np.intp)
        lut.take(index, out=celsius[start : start + LUT_CHUNK], mode="clip")
    return celsius.reshape(raw.shape)


def raw_to_celsius(raw: np.ndarray, params: MeasurementParameters) -> np.ndarray:
    """Object temperature in °C (float32) for every raw count.

    Counts outside the model's domain (non-positive radiance) give NaN. Integer
    frames whose count range is small compared with their size go through a lookup
    table over that range, built with the same float64 formula, so the result is
    identical to the direct evaluation.
    """
    c = constants(params)
    raw = np.asarray(raw)
    if raw.dtype == np.uint16 and raw.size >= LUT_MIN_PIXELS:
        low, high = int(raw.min()), int(raw.max())
        if (high - low + 1) * 4 <= raw.size:
            counts = np.arange(low, high + 1, dtype=np.float64)
            lut = _planck_inverse(counts * c.gain - c.offset, c).astype(np.float32)
            return _look_up(lut, raw, low)
    values = raw.astype(np.float64) * c.gain - c.offset
    return _planck_inverse(values, c).astype(np.float32)


def celsius_to_raw(temp_c: np.ndarray | float, params: MeasurementParameters) -> np.ndarray:
    """The raw count (float64, unrounded) a pixel at ``temp_c`` would read: the inverse model."""
    c = constants(params)
    t = np.asarray(temp_c, dtype=np.float64)
    raw_obj = c.r1 / (c.r2 * (np.exp(c.b / (t + KELVIN)) - c.f)) - c.o
    return (raw_obj + c.offset) / c.gain
