"""``dronegis vegetation ORTHO``: vegetation index COGs (and legends) of an orthophoto.

RGB orthophotos give ExG (chromatic), VARI, GLI and NGRDI; multispectral orthophotos NDVI,
NDRE, GNDVI and SAVI as well, when their bands are identified (band descriptions, wavelengths,
or ``--bands`` with a camera filter such as ``NRG`` or pairs ``red=3,nir=4``). A multispectral
*band frame* (MicaSense, DJI P4 Multispectral / Mavic 3M, Parrot Sequoia) is reported with its
band and calibration instead. Exit code 0 on success, 1 for unusable input, 2 for usage errors.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import numpy as np

from core.atomic import atomic_write_bytes
from core.errors import DroneGisError, GeoreferenceError, UsageError
from dronegis.cli.options import echo_err, emit_json
from pipeline.vegetation import Calibration, VegetationConfig, VegetationResult, vegetation_indices
from pipeline.vegetation.calibrate import frame_reflectance
from pipeline.vegetation.frames import read_band_frame
from pipeline.vegetation.reflectance import CALIBRATION_TEXT
from webgis_export.legend import legend_png
from webgis_export.models import Style

log = logging.getLogger(__name__)

#: Diverging colormap of the index legends (red: bare, yellow: neutral, green: vegetation).
COLORMAP = "RdYlGn"


def write_legends(result: VegetationResult) -> dict[str, Path]:
    """One PNG legend per index COG (``<stem>_legend.png``), drawn by the publishing floor's legend code."""
    legends = {}
    for product in result.products:
        lo, hi = product.display_range
        style = Style(name=product.index, title=product.index, colormap=COLORMAP, vmin=lo, vmax=hi, unit=None)
        label = f"indeksværdi / index value ({product.calibration.value})"
        path = product.path.with_name(f"{product.path.stem}_legend.png")
        atomic_write_bytes(path, legend_png(style, product.index, label=label))
        legends[product.index] = path
    return legends


def _frame_report(path: Path) -> dict[str, Any]:
    """Band, calibration and reflectance figures of a multispectral band frame."""
    got = frame_reflectance(path)
    finite = got.values[np.isfinite(got.values)]
    return {
        "file": str(path),
        "frame": got.frame.model_dump(mode="json"),
        "calibration": got.calibration.value,
        "calibration_text": list(CALIBRATION_TEXT[got.calibration]),
        "reflectance": {
            "min": float(finite.min()),
            "median": float(np.median(finite)),
            "max": float(finite.max()),
        },
    }


@click.command()
@click.argument("ortho", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--index", "indices", multiple=True, help="Index to compute (repeatable); default: every possible one."
)
@click.option(
    "--bands", help="Band layout: camera filter (RGB, NRG, NGB, RGN, RGBN, …) or pairs red=3,nir=4."
)
@click.option("--crs", help="CRS of an input without one (a world file without .prj), e.g. EPSG:32722.")
@click.option(
    "--captured", help="Capture time (ISO 8601; UTC if no offset) when the orthophoto carries none."
)
@click.option(
    "--calibration",
    type=click.Choice([c.value for c in Calibration]),
    help="How the input's values were calibrated (default: its DRONEGIS_CALIBRATION tag, else uncalibrated).",
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder for <name>_<index>.tif and legends.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable result on stdout.")
def vegetation(
    ortho: Path,
    indices: tuple[str, ...],
    bands: str | None,
    crs: str | None,
    captured: str | None,
    calibration: str | None,
    out_dir: Path,
    as_json: bool,
) -> None:
    """Vegetation index COGs (float32, nodata -9999) of ORTHO, with legends and capture time."""
    start = _parse_time(captured)
    try:
        config = VegetationConfig(
            out_dir=out_dir, indices=indices, bands=bands, crs=crs, time_start=start,
            calibration=Calibration(calibration) if calibration else None,
        )  # fmt: skip
        result = vegetation_indices(ortho, config)
    except GeoreferenceError as exc:
        _try_band_frame(ortho, exc, as_json)
        return
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    except (DroneGisError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    legends = write_legends(result)
    if as_json:
        payload = result.model_dump(mode="json")
        payload["legends"] = {k: str(v) for k, v in legends.items()}
        emit_json(payload)
    da, en = result.calibration_text
    echo_err(f"{ortho.name}: {result.crs}, {result.gsd_m:.3f} m; bands {result.band_source}; {da} / {en}")
    for p in result.products:
        s = p.stats
        echo_err(f"  {p.index:6s} p2 {s['p2']:+.3f}  median {s['p50']:+.3f}  p98 {s['p98']:+.3f} -> {p.path}")
    for note in result.warnings:
        echo_err(f"  note: {note}")


def _try_band_frame(path: Path, cause: GeoreferenceError, as_json: bool) -> None:
    """Report a multispectral band frame; re-raise the georeferencing error for anything else."""
    try:
        read_band_frame(path)
    except DroneGisError:
        raise click.ClickException(str(cause)) from cause
    try:
        report = _frame_report(path)
    except (DroneGisError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        emit_json(report)
    frame, r = report["frame"], report["reflectance"]
    echo_err(
        f"{path.name}: band frame {frame['band_name']} ({frame['central_wavelength_nm']} nm, "
        f"{frame['vendor']}); {' / '.join(report['calibration_text'])}; median reflectance "
        f"{r['median']:.4f} (no georeference: no index COG)"
    )


def _parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time", param_hint="--captured") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
