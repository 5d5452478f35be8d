"""Single-frame georeferencing: dronegis vs Orthority on the same brighton_beach frames, one run.

Both orthorectify full-resolution frames onto flat ground at the frame's GSD (bilinear) and write
a GeoTIFF: dronegis a JPEG COG (``pipeline.frames``), Orthority its default tiled GeoTIFF.
Also reports the worst footprint-corner difference between the two (metres).

    .venv/bin/python benchmarks/georef_frames_bench.py [N_FRAMES] [--json OUT]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from flights.exif import read_capture
from flights.models import FileKind
from pipeline.frames.locate import locate_frame
from pipeline.frames.render import frame_grid, read_image, render_frame
from pipeline.frames.write import write_frame_cog
from pipeline.georef.pose import transformer_to
from pipeline.georef.rotation import R_GIMBAL_FROM_CAMERA

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA as SHARED  # noqa: E402
from common import add_json_option, exit_on_sigterm, package_version, ratio, table, write_result  # noqa: E402

DATA = SHARED / "brighton_beach" / "images"
CRS = "EPSG:32615"


def main(n: int, json_path: Path | None) -> None:
    from orthority.camera import PinholeCamera
    from orthority.ortho import Ortho
    from orthority.param_io import _rpy_to_opk

    warnings.simplefilter("ignore")
    ours_s = theirs_s = 0.0
    tmp = Path(tempfile.mkdtemp(prefix="georef-bench-"))
    for path in sorted(DATA.glob("*.JPG"))[:n]:
        capture = read_capture(path, path.name, sha256="-", size=path.stat().st_size, kind=FileKind.RGB_FRAME)
        t0 = time.perf_counter()
        camera, pose, fp = locate_frame(capture, CRS, transformer=transformer_to(CRS))
        grid = frame_grid(fp)
        bands, valid = render_frame(read_image(path), camera, pose, grid)
        write_frame_cog(bands, valid, grid, tmp / f"ours_{path.stem}.tif", crs=CRS, thermal=False, tags={})
        ours_s += time.perf_counter() - t0
        transform, width, height = grid
        dem = tmp / "dem.tif"
        with rasterio.open(
            dem,
            "w",
            driver="GTiff",
            width=300,
            height=300,
            count=1,
            dtype="float32",
            crs=CRS,
            transform=from_origin(transform.c - 100, transform.f + 100, 1.0, 1.0),
        ) as dst:
            dst.write(np.zeros((1, 300, 300), dtype=np.float32))
        a = pose.attitude
        opk = _rpy_to_opk(
            tuple(np.radians([a.roll, a.pitch, a.yaw])),
            (capture.position.lat, capture.position.lon, pose.position.z),  # type: ignore[union-attr]
            CRS,
            "EPSG:4979",
            C_bB=R_GIMBAL_FROM_CAMERA @ np.diag([1.0, -1.0, -1.0]),
        )
        t1 = time.perf_counter()
        ocam = PinholeCamera(
            (camera.width, camera.height),
            (camera.fx / camera.width, camera.fy / camera.width),
            sensor_size=(1.0, camera.height / camera.width),
            xyz=(pose.position.east, pose.position.north, pose.position.z),
            opk=opk,
        )
        Ortho(path, dem, ocam, crs=CRS).process(
            tmp / f"orthority_{path.stem}.tif",
            resolution=(transform.a,) * 2,
            interp="bilinear",
            dem_interp="bilinear",
            build_ovw=True,
        )
        theirs_s += time.perf_counter() - t1
        print(f"{path.name}: {width}x{height} px at {transform.a * 100:.2f} cm")
    print(f"dronegis  {ours_s:6.1f} s for {n} frames ({ours_s / n:.2f} s/frame)")
    print(f"orthority {theirs_s:6.1f} s for {n} frames ({theirs_s / n:.2f} s/frame)")
    print(f"ratio dronegis/orthority = {ours_s / theirs_s:.2f}")
    rows = [
        ["dronegis (`locate_frame` + `render_frame` + `write_frame_cog`, JPEG COG)", ours_s, ours_s / n, ""],
        ["Orthority `Ortho.process` (tiled GeoTIFF + overviews)", theirs_s, theirs_s / n, ""],
        ["**dronegis / Orthority**", "", "", f"**{ratio(ours_s / theirs_s)}**"],
    ]
    write_result(
        json_path,
        figures={"frames": n, "ours_s": ours_s, "orthority_s": theirs_s},
        tables=[table(f"{n} brighton_beach frames (4000×2250) onto flat ground at their GSD, bilinear",
                      ["tool", "wall s", "s/frame", "ratio (lower is faster)"], rows)],
        versions={"orthority": package_version("orthority")},
    )  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("frames", nargs="?", type=int, default=3)
    add_json_option(parser)
    args = parser.parse_args()
    exit_on_sigterm()
    main(args.frames, args.json)
