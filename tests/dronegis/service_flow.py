"""Client-side helpers of the end-to-end tests: upload a flight over HTTP, wait, approve, hash products."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import rasterio
from svc_helpers import GIS, PILOT, auth

from core.workspace import Workspace
from dronegis.catalog import Catalog

BRIGHTON = ("DJI_0018.JPG", "DJI_0019.JPG", "DJI_0020.JPG")  # a subset of the 18 frames, for time
# The DJI thermal frame with GPS and pose (XT2; XTR and XTS were shot on other continents, so they are
# not one flight: together they make a mosaic spanning the globe).
THERMAL = ("DJI_XT2.jpg",)


def create(
    client: httpx.Client, flight: str, purpose: str, *, pyramids: bool = False, target_crs: str | None = None
) -> None:
    body = {
        "id": flight,
        "purpose": purpose,
        "access": "public",
        "title": flight,
        "pyramids": pyramids,
        "target_crs": target_crs,
    }
    r = client.post("/api/flights", json=body, headers=auth(PILOT))
    assert r.status_code == 201, r.text


def upload_multipart(client: httpx.Client, flight: str, paths: list[Path], prefix: str = "") -> None:
    files = [("files", (prefix + p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    r = client.post(f"/api/flights/{flight}/files", files=files, headers=auth(PILOT), timeout=120)
    assert r.status_code == 200, r.text


def odm_br_delivery(data_dir: Path, folder: Path) -> list[Path]:
    """odm_br's GCP orthophoto as ODM delivers it (odm_orthophoto.tif in its UTM 22S) plus its gcp_list.txt.

    The repository holds it as PNG + world file without a .prj; GDAL does not read a .prj beside a PNG,
    so the PNG is written as the GeoTIFF ODM would have delivered, with the CRS of the GCP file.
    """
    src = data_dir / "odm_br" / "odm_extra_gcp_br_ckeck.png"
    out = folder / "odm_orthophoto" / "odm_orthophoto.tif"
    out.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(src) as ds:
        profile = {
            "driver": "GTiff",
            "width": ds.width,
            "height": ds.height,
            "count": ds.count,
            "dtype": ds.dtypes[0],
            "crs": "EPSG:32722",
            "transform": ds.transform,
            "tiled": True,
            "compress": "deflate",
        }
        if ds.count == 4:
            profile["photometric"] = "RGB"
        with rasterio.open(out, "w", **profile) as dst:
            dst.write(ds.read())
    gcp = folder / "gcp_list.txt"
    gcp.write_bytes((data_dir / "odm_br" / "gcp_list.txt").read_bytes())
    return [out, gcp]


def upload_zip(client: httpx.Client, flight: str, paths: list[Path], root: Path) -> list[str]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in paths:
            zf.write(p, p.relative_to(root).as_posix())
    r = client.post(f"/api/flights/{flight}/zip", content=buf.getvalue(), headers=auth(PILOT), timeout=120)
    assert r.status_code == 200, r.text
    stored: list[str] = r.json()["stored"]
    return stored


def interrupted_put(base_url: str, flight: str, path: Path, cut: int, upload_id: str) -> None:
    """Start a PUT of the whole file but drop the connection after ``cut`` bytes of the body.

    The client chose its ``upload_id`` itself, so it can resume although it never saw an answer.
    """
    host, port = base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    size = path.stat().st_size
    conn.putrequest("PUT", f"/api/flights/{flight}/files/{path.name}")
    conn.putheader("Authorization", f"Bearer {PILOT}")
    conn.putheader("Upload-Id", upload_id)
    conn.putheader("Content-Range", f"bytes 0-{size - 1}/{size}")
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    conn.send(path.read_bytes()[:cut])
    conn.sock.close()  # the pilot's laptop lost its network


def resume_put(client: httpx.Client, flight: str, path: Path, upload_id: str, chunk: int = 1 << 20) -> int:
    """Ask for the stored offset of ``upload_id`` (HEAD) and send the rest in Content-Range pieces."""
    url = f"/api/flights/{flight}/files/{path.name}"
    headers = {**auth(PILOT), "Upload-Id": upload_id}
    deadline = time.monotonic() + 20
    offset = 0
    while time.monotonic() < deadline:  # the server notices the dropped connection asynchronously
        head = client.head(url, headers=headers)
        offset = int(head.headers.get("Upload-Offset", 0))
        if offset > 0:
            break
        time.sleep(0.1)
    resumed_at = offset
    data = path.read_bytes()
    while offset < len(data):
        piece = data[offset : offset + chunk]
        rng = f"bytes {offset}-{offset + len(piece) - 1}/{len(data)}"
        r = client.put(url, content=piece, headers={**headers, "Content-Range": rng}, timeout=60)
        if r.status_code == 409:  # the interrupted request was still flushing: take the server's offset
            assert time.monotonic() < deadline + 60, r.text
            time.sleep(0.2)
            offset = int(client.head(url, headers=headers).headers["Upload-Offset"])
            continue
        assert r.status_code in (200, 201), r.text
        offset = int(r.headers["Upload-Offset"])
    return resumed_at


def finish(client: httpx.Client, flight: str) -> int:
    r = client.post(f"/api/flights/{flight}/finish", headers=auth(PILOT))
    assert r.status_code == 202, r.text
    job: int = r.json()["job"]
    return job


def wait(client: httpx.Client, flight: str, *, timeout: float = 900, approve: bool = True) -> dict[str, Any]:
    """Poll until the flight's job stops; approve (GIS) when it waits for approval."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/flights/{flight}", headers=auth(GIS)).json()["job"]
        if job["status"] == "waiting_approval" and approve:
            r = client.post(
                f"/api/flights/{flight}/approve",
                json={"reason": "e2e test: QA report read"},
                headers=auth(GIS),
            )
            assert r.status_code == 200, r.text
        elif job["status"] in ("done", "failed", "waiting_approval"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"flight {flight}: job did not finish in {timeout} s")


def product_hashes(workspace: Path, flight: str) -> dict[str, str]:
    """sha256 per product: raster pixels + grid for rasters, sorted features for vectors."""
    ws = Workspace.at(workspace)
    hashes = {}
    for product in Catalog(ws.catalog, readonly=True).products(flight):
        path = ws.root / product.path
        digest = hashlib.sha256()
        try:
            with rasterio.open(path) as ds:
                digest.update(np.ascontiguousarray(ds.read()).tobytes())
                digest.update(repr((ds.crs.to_string() if ds.crs else None, tuple(ds.transform))).encode())
        except rasterio.errors.RasterioIOError:
            import pyogrio

            frame = pyogrio.read_dataframe(path)
            rows = sorted(json.dumps([str(v) for v in row], sort_keys=True) for row in frame.to_wkt().values)
            digest.update("\n".join(rows).encode())
        hashes[product.id] = digest.hexdigest()
    return hashes
