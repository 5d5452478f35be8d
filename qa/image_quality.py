"""Image-quality checks: blur, motion blur, black and saturated frames, exposure, thermal
plausibility and the nodata share of products.

Per-frame figures are ``ImageQuality`` values (``flights.quality.assess``: variance of the
Laplacian on a 1/2 decode, brightness, dark and saturated shares). The blur threshold and
the black-frame rule are those of :mod:`flights.quality` (where they were measured), so
ingest and QA judge a frame alike.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import rasterio

from flights.models import Capture, ImageQuality
from flights.quality import DEFAULT_BLUR_THRESHOLD, is_black, is_blurry
from qa.models import CheckResult, Status

logger = logging.getLogger(__name__)

SATURATED_FRACTION = 0.25
OVEREXPOSED_MEAN = 230.0
THERMAL_RANGE_C = (-40.0, 150.0)
MAX_NAN_SHARE = 0.05
CONSTANT_STD = 1e-3


def is_saturated(q: ImageQuality) -> bool:
    """A blown-out frame."""
    return q.saturated_fraction >= SATURATED_FRACTION or q.mean_brightness > OVEREXPOSED_MEAN


def frame_gsd(capture: Capture) -> float | None:
    """Nadir GSD (m) of a frame: H·p/f with H the height above take-off (REFERENCE.md §1.6)."""
    cam, pos = capture.camera, capture.position
    height = pos.relative_altitude_m if pos is not None else None
    if height is None or height <= 0:
        return None
    if cam.calibrated_focal_px:
        return height / cam.calibrated_focal_px
    pitch_m = None
    if cam.pixel_pitch_um:
        pitch_m = cam.pixel_pitch_um * 1e-6
    elif cam.sensor_width_mm and cam.width:
        pitch_m = cam.sensor_width_mm * 1e-3 / cam.width
    if pitch_m is None or not cam.focal_length_mm:
        return None
    return height * pitch_m / (cam.focal_length_mm * 1e-3)


def motion_blur_m(capture: Capture) -> float | None:
    """Ground distance the aircraft moved during the exposure (m), when speed and exposure are known."""
    v, exposure = capture.velocity, capture.camera.exposure_time_s
    if v.x is None or v.y is None or exposure is None:
        return None
    return math.hypot(v.x, v.y) * exposure


def _share_status(flagged: int, total: int) -> Status:
    if flagged == 0:
        return "pass"
    return "fail" if flagged * 2 > total else "warn"


def _flag_check(
    cid: str, title: str, frames: Sequence[Capture], flagged: list[str], what: str
) -> CheckResult:
    status = _share_status(len(flagged), len(frames))
    message = f"{len(flagged)} of {len(frames)} frames {what}" + (
        f": {', '.join(flagged)}" if flagged else ""
    )
    return CheckResult(
        id=cid,
        title=title,
        status=status,
        figures={"flagged": flagged, "frames": len(frames)},
        message=message,
    )


def frame_checks(
    captures: Sequence[Capture], *, blur_threshold: float = DEFAULT_BLUR_THRESHOLD
) -> list[CheckResult]:
    """Blur, black, saturated and exposure checks over frames that carry quality figures."""
    frames = [c for c in captures if c.quality is not None]
    titles = ("Blur", "Black frames", "Saturated frames", "Exposure histogram")
    ids = ("image.blur", "image.black", "image.saturated", "image.exposure")
    if not frames:
        return [
            CheckResult.skipped(i, t, "no frame has image-quality figures")
            for i, t in zip(ids, titles, strict=True)
        ]
    q = {c.path: c.quality for c in frames if c.quality is not None}
    blur = _flag_check(
        "image.blur", "Blur", frames, [p for p, v in q.items() if is_blurry(v, blur_threshold)], "blurry"
    )
    blur = blur.model_copy(
        update={
            "figures": {
                **blur.figures,
                "threshold": blur_threshold,
                "scores": {p: v.blur_score for p, v in q.items()},
            }
        }
    )
    black = _flag_check(
        "image.black", "Black frames", frames, [p for p, v in q.items() if is_black(v)], "black"
    )
    sat = _flag_check(
        "image.saturated",
        "Saturated frames",
        frames,
        [p for p, v in q.items() if is_saturated(v)],
        "saturated",
    )
    counts, edges = np.histogram([v.mean_brightness for v in q.values()], bins=16, range=(0, 256))
    exposure = CheckResult(
        id="image.exposure",
        title="Exposure histogram",
        status="pass",
        figures={
            "counts": counts.tolist(),
            "edges": edges.tolist(),
            "mean_brightness": {p: v.mean_brightness for p, v in q.items()},
        },
        message=f"mean brightness of {len(q)} frames, 16 bins",
    )
    return [blur, black, sat, exposure]


def motion_blur_check(captures: Sequence[Capture]) -> CheckResult:
    """Ground speed × exposure time against half a GSD, for frames where all three are known."""
    title = "Motion blur (speed × exposure vs ½ GSD)"
    rows: dict[str, dict[str, float]] = {}
    flagged = []
    for c in captures:
        smear, gsd = motion_blur_m(c), frame_gsd(c)
        if smear is None or gsd is None:
            continue
        rows[c.path] = {"smear_m": smear, "gsd_m": gsd}
        if smear > 0.5 * gsd:
            flagged.append(c.path)
    if not rows:
        return CheckResult.skipped("image.motion_blur", title, "no frame has speed, exposure time and GSD")
    status = _share_status(len(flagged), len(rows))
    message = f"{len(flagged)} of {len(rows)} frames moved more than half a GSD during exposure"
    return CheckResult(
        id="image.motion_blur",
        title=title,
        status=status,
        figures={"frames": rows, "flagged": flagged},
        message=message,
    )


def _implausible(f: dict[str, float | bool], lo: float, hi: float) -> str | None:
    """Why a thermal raster is implausible (mostly without values, constant, out of range), or None."""
    if float(f["nan_share"]) > 0.5:
        return f"{float(f['nan_share']):.0%} without a value"
    if bool(f["constant"]):
        return f"constant {float(f['min_c']):.1f} °C"
    if not (lo <= float(f["min_c"]) and float(f["max_c"]) <= hi):
        return f"{float(f['min_c']):.1f}…{float(f['max_c']):.1f} °C, outside {lo:g}…{hi:g} °C"
    return None


def thermal_frame_figures(values: np.ndarray) -> dict[str, float | bool]:
    """Range, NaN share and constancy of one thermal array (°C)."""
    arr = np.asarray(values, dtype=np.float64)
    finite = arr[np.isfinite(arr)]
    nan_share = 1.0 - finite.size / arr.size if arr.size else 1.0
    if finite.size == 0:
        return {"min_c": math.nan, "max_c": math.nan, "nan_share": nan_share, "constant": True}
    return {
        "min_c": float(finite.min()),
        "max_c": float(finite.max()),
        "nan_share": nan_share,
        "constant": bool(finite.std() < CONSTANT_STD),
    }


def thermal_check(
    frames: Mapping[str, np.ndarray],
    *,
    valid_range_c: tuple[float, float] = THERMAL_RANGE_C,
    undecodable: Mapping[str, str] | None = None,
) -> CheckResult:
    """Thermal plausibility: values within a physical range, few NaNs, no constant frames.

    Frames listed in ``undecodable`` (name -> error) could not be turned into °C: a warning.
    """
    title = "Thermal plausibility"
    undecodable = dict(undecodable or {})
    if not frames and undecodable:
        return CheckResult(
            id="thermal.plausibility",
            title=title,
            status="warn",
            figures={"undecodable": undecodable},
            message=f"{len(undecodable)} thermal frames could not be decoded: {', '.join(undecodable)}",
        )
    if not frames:
        return CheckResult.skipped("thermal.plausibility", title, "no thermal frames or products")
    lo, hi = valid_range_c
    figures: dict[str, object] = {}
    bad, warn = [], []
    for name, values in frames.items():
        f = thermal_frame_figures(values)
        figures[name] = f
        reason = _implausible(f, lo, hi)
        if reason:
            bad.append(f"{name} ({reason})")
        elif float(f["nan_share"]) > MAX_NAN_SHARE:
            warn.append(f"{name} ({float(f['nan_share']):.0%} without a value)")
    status: Status = "fail" if bad else "warn" if warn or undecodable else "pass"
    parts = [f"{len(bad)} implausible: {'; '.join(bad)}"] if bad else []
    parts += [f"{len(warn)} with many pixels without a value: {'; '.join(warn)}"] if warn else []
    parts += [f"{len(undecodable)} could not be decoded: {', '.join(undecodable)}"] if undecodable else []
    if parts:
        msg = f"{len(frames)} thermal rasters; " + "; ".join(parts)
    else:
        msg = f"{len(frames)} thermal rasters, all within {lo:g}…{hi:g} °C"
    return CheckResult(
        id="thermal.plausibility",
        title=title,
        status=status,
        figures={"frames": figures, "range_c": [lo, hi], "undecodable": undecodable},
        message=msg,
    )


def nodata_share(path: Path) -> float:
    """Share of pixels of a raster that are nodata (dataset mask of band 1)."""
    with rasterio.open(path) as src:
        total, empty = 0, 0
        for _, window in src.block_windows(1):
            mask = src.read_masks(1, window=window)
            total += mask.size
            empty += int((mask == 0).sum())
    return empty / total if total else 1.0


def nodata_check(
    products: Mapping[str, Path], *, warn_above: float = 0.6, fail_above: float = 0.99
) -> CheckResult:
    """Nodata share of every raster product."""
    title = "Nodata share of products"
    if not products:
        return CheckResult.skipped("products.nodata", title, "no raster products")
    shares = {pid: nodata_share(path) for pid, path in products.items()}
    worst = max(shares.values())
    status: Status = "fail" if worst > fail_above else "warn" if worst > warn_above else "pass"
    msg = ", ".join(f"{pid} {s:.1%}" for pid, s in shares.items())
    return CheckResult(
        id="products.nodata", title=title, status=status, figures={"shares": shares}, message=msg
    )
