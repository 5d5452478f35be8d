"""OGC API – Features items: 10 000 building findings, 1 000 per page — dronegis vs GDAL's ogr2ogr, one run.

The buildings are real findings of ``pipeline.buildings``: 10 000 synthetic footprints (the
zonal benchmark's rotated rectangles and L shapes) over a 4 000 × 4 000 °C raster, analysed once
into ``benchmarks/_work/features/`` (28 attributes per building) and published as a vector
layer. Each of the 10 pages (``limit=1000``, ``offset=0…9000``) is asked for ``--rounds`` times,
one request at a time over a kept-alive HTTP connection on 127.0.0.1, in CRS84 (the default:
reprojected from the stored EPSG:25832) and with ``crs=EPSG:25832``. The peer answers the same
page from the same GeoPackage with GDAL (Debian ``ogr2ogr``, GeoJSON to stdout, SQLite
``LIMIT/OFFSET``, ``-t_srs OGC:CRS84`` for the CRS84 case), one process per page as a client would
run it; its start-up (the same command for 0 rows) is measured too and shown apart. The
contenders take turns page by page, so a change of load on the shared machine hits all alike.

    .venv/bin/python benchmarks/features_bench.py [--rounds 10] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    REPO,
    WORK,
    add_json_option,
    command_version,
    exit_on_sigterm,
    free_port,
    ratio,
    table,
    write_result,
)
from tiles_bench import dronegis_server  # noqa: E402
from zonal_bench import make_footprints, make_raster  # noqa: E402

FOLDER = WORK / "features"
RASTER_SIZE, COUNT, PAGE = 4000, 10_000, 1000
UTM = "http://www.opengis.net/def/crs/EPSG/0/25832"


def buildings_gpkg() -> Path:
    """The buildings stage's GeoPackage for 10 000 footprints (made once)."""
    from pipeline.buildings import BuildingsConfig, FlightConditions, buildings_stage

    out = FOLDER / "out" / "buildings.gpkg"
    if out.exists():
        return out
    FOLDER.mkdir(parents=True, exist_ok=True)
    raster, footprints = FOLDER / f"celsius_{RASTER_SIZE}.tif", FOLDER / f"footprints_{COUNT}.gpkg"
    if not raster.exists():
        make_raster(raster, RASTER_SIZE)
    if not footprints.exists():
        make_footprints(footprints, RASTER_SIZE, COUNT)
    config = BuildingsConfig(
        footprints=footprints,
        thermal=raster,
        out_dir=out.parent,
        flight=FlightConditions(air_temp_c=2.0),
        cards=False,
    )
    buildings_stage(config)
    return out


def publish_buildings(gpkg: Path) -> tuple[Path, str]:
    """A workspace with the buildings published as a public vector layer."""
    from datetime import UTC, datetime

    from core.workspace import Workspace
    from pipeline.models import Product, ProductKind, VectorInfo
    from webgis_export.publish import publish
    from webgis_export.vectors.store import load_vector_layers

    ws = Workspace.at(FOLDER / "ws")
    layer_id = "bench-buildings"
    if any(layer.id == layer_id for layer in load_vector_layers(ws)):
        return ws.root, layer_id
    folder = ws.products("bench")
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "buildings.gpkg"
    if not link.exists():
        link.symlink_to(gpkg.resolve())
    product = Product(
        id=layer_id,
        flight="bench",
        kind=ProductKind.BUILDINGS,
        path="products/bench/buildings.gpkg",
        crs="EPSG:25832",
        bounds=(0.0, 0.0, 1.0, 1.0),
        time_start=datetime(2026, 2, 10, 5, 30, tzinfo=UTC),
        vector=VectorInfo(layer="buildings", count=COUNT),
    )
    ws.products_json("bench").write_text(json.dumps([product.model_dump(mode="json")]), encoding="utf-8")
    publish(ws, layer_id, access="public")
    return ws.root, layer_id


def ours(client: httpx.Client, url: str, offset: int, crs: str | None) -> tuple[float, int]:
    """Milliseconds of one page request to dronegis, and its features."""
    params: dict[str, str | int] = {"limit": PAGE, "offset": offset} | ({"crs": crs} if crs else {})
    start = time.perf_counter()
    response = client.get(url, params=params)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"bench: ERROR: {response.url} answered {response.status_code}")
    return elapsed, len(response.json()["features"])


def ogr2ogr(gpkg: Path, offset: int, crs84: bool, limit: int = PAGE) -> tuple[float, int]:
    """Milliseconds of one ``ogr2ogr`` of a page to GeoJSON on stdout, and its features."""
    sql = f"SELECT * FROM buildings LIMIT {limit} OFFSET {offset}"
    cmd = ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", str(gpkg), "-dialect", "SQLite", "-sql", sql]
    if crs84:
        cmd += ["-t_srs", "OGC:CRS84"]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, check=True)
    elapsed = (time.perf_counter() - start) * 1000
    return elapsed, len(json.loads(done.stdout)["features"])


def run_rounds(url: str, gpkg: Path, rounds: int) -> dict[str, list[float]]:
    """Every page, every round, the four contenders interleaved (so load changes hit all alike)."""
    times: dict[str, list[float]] = {}
    sides = {
        "dronegis_crs84": lambda client, offset: ours(client, url, offset, None),
        "dronegis_utm": lambda client, offset: ours(client, url, offset, UTM),
        "ogr2ogr_crs84": lambda client, offset: ogr2ogr(gpkg, offset, True),
        "ogr2ogr_utm": lambda client, offset: ogr2ogr(gpkg, offset, False),
        "ogr2ogr_startup": lambda client, offset: ogr2ogr(gpkg, offset, True, limit=0),
    }
    with httpx.Client(timeout=120) as client:
        ours(client, url, 0, None)  # warm-up
        for _ in range(rounds):
            counts = dict.fromkeys(sides, 0)
            for offset in range(0, COUNT, PAGE):
                for name, side in sides.items():
                    elapsed, features = side(client, offset)
                    times.setdefault(name, []).append(elapsed)
                    counts[name] += features
            assert all(n == (0 if k.endswith("startup") else COUNT) for k, n in counts.items()), counts
    return times


def summary(times: list[float]) -> dict[str, float]:
    """p50, p95 and mean in milliseconds."""
    ordered = sorted(times)
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[int(0.95 * (len(ordered) - 1))],
        "mean": statistics.mean(ordered),
    }


def main() -> None:
    """Make the layer if missing, run both sides, print and write the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=10)
    add_json_option(parser)
    args = parser.parse_args()
    exit_on_sigterm()
    gpkg = buildings_gpkg()
    ws_root, layer_id = publish_buildings(gpkg)
    published = ws_root / "publish" / "layers" / layer_id / "features.gpkg"
    port = free_port()
    url = f"http://127.0.0.1:{port}/ogcapi/collections/{layer_id}/items"
    with dronegis_server(ws_root, port):
        times = run_rounds(url, published, args.rounds)
    results: dict[str, Any] = {name: summary(values) for name, values in times.items()}
    startup = results["ogr2ogr_startup"]["p50"]
    rows = []
    for name, label in (("crs84", "CRS84 (default)"), ("utm", "crs=EPSG:25832")):
        ours_p50, peer_p50 = results[f"dronegis_{name}"]["p50"], results[f"ogr2ogr_{name}"]["p50"]
        peer_work = max(peer_p50 - startup, 1e-3)
        row = [label, ours_p50, results[f"dronegis_{name}"]["p95"], peer_p50, peer_work]
        rows.append([*row, ratio(ours_p50 / peer_p50), ratio(ours_p50 / peer_work)])
    title = (
        f"/collections/{{id}}/items of {COUNT} building findings (28 attributes), limit={PAGE}, 10 pages × "
        f"{args.rounds} rounds, one request at a time (target: p50 ≤ 100 ms); peer: ogr2ogr from the "
        "GeoPackage; ratios are time over the peer's time (below 1× = faster)"
    )
    columns = [
        "output CRS",
        "dronegis p50 ms",
        "dronegis p95 ms",
        "ogr2ogr p50 ms",
        "ogr2ogr p50 − start-up ms",
        "dronegis / ogr2ogr",
        "dronegis / ogr2ogr without start-up",
    ]
    notes = [
        f"ogr2ogr start-up (same command, 0 rows): p50 {startup:.0f} ms; its process is started per page, "
        "as a client script would; the last column takes that start-up away.",
        f"Published copy: {published.relative_to(REPO)} "
        f"({published.stat().st_size / 2**20:.1f} MiB, R-tree index).",
    ]
    print(json.dumps(results, indent=1))
    write_result(
        args.json,
        figures=results,
        tables=[table(title, columns, rows)],
        versions={"ogr2ogr": command_version(["ogr2ogr", "--version"])},
        notes=notes,
    )


if __name__ == "__main__":
    main()
