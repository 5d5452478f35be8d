"""WMS GetMap 1024×1024: dronegis /wms vs MapServer 8 (Debian cgi-mapserver) on the same COG.

The same 30 GetMap requests (EPSG:25832, bounding boxes from the whole 500 m COG down to
32 m, image/jpeg and image/png) are sent one at a time to each. dronegis is reached over
HTTP on 127.0.0.1 (uvicorn); MapServer runs as the CGI program it is (``mapserv`` with
QUERY_STRING, one process per request, no HTTP in between), so MapServer's figure leaves
out the HTTP hop that dronegis pays.

    .venv/bin/python benchmarks/wms_bench.py [--cog benchmarks/_work/r10k_jpeg_cog.tif]

Needs ``apt-get install mapserver-bin cgi-mapserver``. MapServer 8 refuses to run without
a config file (STACK.md §2), so one is written next to the mapfile.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import rasterio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiles_bench import LAUNCH_DRONEGIS, PY, WORK, ensure_cog, publish_for_bench, start  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cog", type=Path, default=WORK / "r10k_jpeg_cog.tif")
    args = parser.parse_args()
    cog = ensure_cog(args.cog)
    ws_root, layer_id = publish_for_bench(cog)
    published = (ws_root / "publish" / "layers" / layer_id / "cog.tif").resolve()
    with rasterio.open(published) as src:
        bounds = tuple(src.bounds)
    folder = WORK / "mapserver"
    folder.mkdir(parents=True, exist_ok=True)
    mapfile = folder / "bench.map"
    mapfile.write_text(MAPFILE.format(left=bounds[0], bottom=bounds[1], right=bounds[2], top=bounds[3],
                                      cog=published), encoding="utf-8")
    config = folder / "mapserver.conf"
    config.write_text(f'CONFIG\n  ENV\n    MS_MAP_PATTERN "^{folder}/"\n  END\nEND\n', encoding="utf-8")
    reqs = requests_list(bounds)  # type: ignore[arg-type]
    port = 8751
    ours = start([PY, "-c", LAUNCH_DRONEGIS, str(ws_root), str(port)], port)
    times: dict[str, list[float]] = {"dronegis": [], "mapserver": []}
    sizes: dict[str, list[int]] = {"dronegis": [], "mapserver": []}
    env = {**os.environ, "MAPSERVER_CONFIG_FILE": str(config)}
    try:
        with httpx.Client(timeout=120) as client:
            client.get(f"http://127.0.0.1:{port}/wms", params={**reqs[0], "LAYERS": layer_id})  # warm-up
            for params in reqs:
                t0 = time.perf_counter()
                response = client.get(f"http://127.0.0.1:{port}/wms", params={**params, "LAYERS": layer_id})
                times["dronegis"].append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, response.text[:300]
                sizes["dronegis"].append(len(response.content))

                query = urlencode({**params, "LAYERS": "ortho", "map": str(mapfile)})
                t0 = time.perf_counter()
                command = ["mapserv", f"QUERY_STRING={query}"]
                done = subprocess.run(command, capture_output=True, env=env, check=True)
                times["mapserver"].append((time.perf_counter() - t0) * 1000)
                assert b"Content-Type: image/" in done.stdout[:200], done.stdout[:400]
                sizes["mapserver"].append(len(done.stdout))
    finally:
        ours.terminate()
        ours.wait(10)
    p50 = {k: statistics.median(v) for k, v in times.items()}
    print(json.dumps({
        "requests": len(reqs), "size": "1024x1024", "cog": str(cog),
        "p50_ms": {k: round(v, 1) for k, v in p50.items()},
        "p95_ms": {k: round(sorted(v)[int(0.95 * (len(v) - 1))], 1) for k, v in times.items()},
        "mean_kb": {k: round(statistics.mean(v) / 1024, 1) for k, v in sizes.items()},
        "ratio_p50_dronegis_over_mapserver": round(p50["dronegis"] / p50["mapserver"], 2),
    }, indent=1))


if __name__ == "__main__":
    main()
