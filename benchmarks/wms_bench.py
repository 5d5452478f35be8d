"""WMS GetMap 1024×1024: dronegis /wms vs MapServer 8 under FastCGI on the same COG.

The same 30 GetMap requests (EPSG:25832, bounding boxes from the whole 500 m COG down to
32 m, image/jpeg and image/png alternating) are sent one at a time to each, both over
HTTP on 127.0.0.1 (random free ports): dronegis under uvicorn, MapServer as the Debian
``mapserv`` in FastCGI mode, 4 processes kept running by lighttpd (``mod_fastcgi``), so
no process start-up per request. MapServer 8 refuses to run without a config file
(STACK.md §2): one with ``MS_MAP_PATTERN`` is written next to the mapfile and passed in
``MAPSERVER_CONFIG_FILE``. Both servers are stopped by PID however the run ends.

    .venv/bin/python benchmarks/wms_bench.py [--cog benchmarks/_work/r10k_jpeg_cog.tif] [--json OUT]

Needs ``cgi-mapserver mapserver-bin lighttpd`` (scripts/bench.sh installs them).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import rasterio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    WORK,
    Server,
    add_json_option,
    exit_on_sigterm,
    free_port,
    ratio,
    table,
    write_result,
)
from tiles_bench import dronegis_server, ensure_cog, publish_for_bench  # noqa: E402

MAPSERV_PROCESSES = 4
LIGHTTPD_CONF = """server.document-root = "{folder}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{folder}/lighttpd-error.log"
server.modules += ("mod_fastcgi")
fastcgi.server = ("/mapserv" => ((
    "socket" => "{folder}/mapserv.sock",
    "bin-path" => "{mapserv}",
    "max-procs" => {procs},
    "check-local" => "disable",
    "bin-environment" => ("MAPSERVER_CONFIG_FILE" => "{config}"),
)))
"""

MAPFILE = """MAP
  NAME "bench"
  EXTENT {left} {bottom} {right} {top}
  SIZE 1024 1024
  MAXSIZE 4096
  PROJECTION "init=epsg:25832" END
  WEB METADATA "wms_title" "bench" "wms_onlineresource" "http://127.0.0.1/" "wms_srs" "EPSG:25832 EPSG:4326"
    "wms_enable_request" "*" END END
  OUTPUTFORMAT NAME "png" DRIVER AGG/PNG MIMETYPE "image/png" IMAGEMODE RGBA EXTENSION "png" END
  OUTPUTFORMAT NAME "jpeg" DRIVER AGG/JPEG MIMETYPE "image/jpeg" IMAGEMODE RGB EXTENSION "jpg"
    FORMATOPTION "QUALITY=85" END
  LAYER NAME "ortho" TYPE RASTER STATUS ON DATA "{cog}" PROJECTION "init=epsg:25832" END
    METADATA "wms_title" "ortho" END END
END
"""


def requests_list(bounds: tuple[float, float, float, float], count: int = 30) -> list[dict[str, str]]:
    """GetMap parameter sets: random squares of 32–500 m inside the COG, JPEG and PNG alternating."""
    left, bottom, right, top = bounds
    rng = random.Random(3)
    out = []
    for i in range(count):
        size = min(right - left, 32 * 2 ** rng.uniform(0, 4))
        x0 = rng.uniform(left, right - size)
        y0 = rng.uniform(bottom, top - size)
        out.append({
            "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "STYLES": "", "CRS": "EPSG:25832",
            "BBOX": f"{x0:.3f},{y0:.3f},{x0 + size:.3f},{y0 + size:.3f}", "WIDTH": "1024", "HEIGHT": "1024",
            "FORMAT": "image/jpeg" if i % 2 == 0 else "image/png",
        })
    return out


def mapserver(folder: Path, cog: Path, bounds: tuple[float, float, float, float], port: int) -> Server:
    """lighttpd on ``port`` running ``mapserv`` under FastCGI for a mapfile of ``cog``."""
    mapserv = shutil.which("mapserv")
    if mapserv is None or shutil.which("lighttpd") is None:
        raise SystemExit("bench: ERROR: mapserv or lighttpd missing (cgi-mapserver mapserver-bin lighttpd)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench.map").write_text(
        MAPFILE.format(left=bounds[0], bottom=bounds[1], right=bounds[2], top=bounds[3], cog=cog),
        encoding="utf-8",
    )
    config = folder / "mapserver.conf"
    config.write_text(f'CONFIG\n  ENV\n    MS_MAP_PATTERN "^{folder}/"\n  END\nEND\n', encoding="utf-8")
    conf = folder / "lighttpd.conf"
    conf.write_text(LIGHTTPD_CONF.format(folder=folder, port=port, mapserv=mapserv, procs=MAPSERV_PROCESSES,
                                         config=config), encoding="utf-8")  # fmt: skip
    ready = f"http://127.0.0.1:{port}/mapserv?SERVICE=WMS&REQUEST=GetCapabilities&map={folder}/bench.map"
    return Server("MapServer-FastCGI", ["lighttpd", "-D", "-f", str(conf)], ready)


def timed_get(client: httpx.Client, url: str, params: dict[str, str]) -> tuple[float, bytes]:
    """Milliseconds and body of one GET; the response must be an image."""
    t0 = time.perf_counter()
    response = client.get(url, params=params)
    elapsed = (time.perf_counter() - t0) * 1000
    if response.status_code != 200 or not response.headers.get("content-type", "").startswith("image/"):
        raise SystemExit(f"bench: ERROR: {url} answered {response.status_code}: {response.text[:300]}")
    return elapsed, response.content


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cog", type=Path, default=WORK / "r10k_jpeg_cog.tif")
    add_json_option(parser)
    args = parser.parse_args()
    exit_on_sigterm()
    cog = ensure_cog(args.cog)
    ws_root, layer_id = publish_for_bench(cog)
    published = (ws_root / "publish" / "layers" / layer_id / "cog.tif").resolve()
    with rasterio.open(published) as src:
        bounds = (src.bounds.left, src.bounds.bottom, src.bounds.right, src.bounds.top)
    folder = (WORK / "mapserver").resolve()
    reqs = requests_list(bounds)
    ours_port, ms_port = free_port(), free_port()
    ours_url, ms_url = f"http://127.0.0.1:{ours_port}/wms", f"http://127.0.0.1:{ms_port}/mapserv"
    times: dict[str, list[float]] = {"dronegis": [], "mapserver": []}
    sizes: dict[str, list[int]] = {"dronegis": [], "mapserver": []}
    with (
        dronegis_server(ws_root, ours_port),
        mapserver(folder, published, bounds, ms_port),
        httpx.Client(timeout=120) as client,
    ):
        ms_params = {"LAYERS": "ortho", "map": str(folder / "bench.map")}
        timed_get(client, ours_url, {**reqs[0], "LAYERS": layer_id})  # warm-up, both
        timed_get(client, ms_url, {**reqs[0], **ms_params})
        sides = (("dronegis", ours_url, {"LAYERS": layer_id}), ("mapserver", ms_url, ms_params))
        for params in reqs:
            for name, url, extra in sides:
                ms, body = timed_get(client, url, {**params, **extra})
                times[name].append(ms)
                sizes[name].append(len(body))
    p50 = {k: statistics.median(v) for k, v in times.items()}
    p95 = {k: sorted(v)[int(0.95 * (len(v) - 1))] for k, v in times.items()}
    kb = {k: statistics.mean(v) / 1024 for k, v in sizes.items()}
    by_format = {  # the requests alternate JPEG (even) and PNG (odd)
        k: {"jpeg": statistics.median(v[0::2]), "png": statistics.median(v[1::2])} for k, v in times.items()
    }
    summary: dict[str, Any] = {
        "requests": len(reqs), "size": "1024x1024", "cog": str(cog), "mapserv_processes": MAPSERV_PROCESSES,
        "p50_ms": p50, "p95_ms": p95, "mean_kb": kb, "p50_ms_by_format": by_format,
        "ratio_p50_dronegis_over_mapserver": p50["dronegis"] / p50["mapserver"],
    }  # fmt: skip
    print(json.dumps(summary, indent=1))
    title = (
        f"{len(reqs)} GetMap 1024×1024 (EPSG:25832, JPEG/PNG alternating), one at a time; MapServer 8 "
        f"FastCGI ({MAPSERV_PROCESSES} mapserv processes under lighttpd) (target: p50 ≤ 0.5× MapServer)"
    )
    rows = [
        [name, p50[key], p95[key], by_format[key]["jpeg"], by_format[key]["png"], kb[key]]
        for name, key in (("dronegis", "dronegis"), ("MapServer FastCGI", "mapserver"))
    ]
    rows.append(
        ["**dronegis / MapServer**", f"**{ratio(summary['ratio_p50_dronegis_over_mapserver'])}**",
         ratio(p95["dronegis"] / p95["mapserver"]),
         ratio(by_format["dronegis"]["jpeg"] / by_format["mapserver"]["jpeg"]),
         ratio(by_format["dronegis"]["png"] / by_format["mapserver"]["png"]), ""]
    )  # fmt: skip
    columns = ["server", "p50 ms", "p95 ms", "JPEG p50 ms", "PNG p50 ms", "mean kB"]
    write_result(
        args.json, figures={**summary, "times_ms": times}, tables=[table(title, columns, rows)],
    )  # fmt: skip


if __name__ == "__main__":
    main()
