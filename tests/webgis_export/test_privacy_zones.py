"""Privacy zones (issue 16): a real photo published as an orthophoto with a zone drawn in EPSG:4326.

Inside the zone no original detail survives — in the COG, in GetMap and in the tiles — and outside
it every pixel is the product's (bit-identical at full resolution: the COG, a native-resolution
GetMap; tiles beyond a JPEG block of the zone). Moving the zone and re-masking moves the mask; until
then the service withholds the layer. Frames are internal unless made public with a reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import geopandas as gpd
import httpx
import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.features import rasterize
from shapely.geometry import Polygon

from core.errors import LayerNotFound
from core.workspace import Workspace
from dronegis.api.app import create_app
from dronegis.settings import Settings, Token
from pipeline.models import Product, ProductKind
from pipeline.rasters.cog import write_cog_array
from tests.webgis_export.published import CAPTURE, NOW, live_server
from webgis_export.privacy.gate import PublicationGate, read_stamp
from webgis_export.privacy.models import PrivacyConfig
from webgis_export.privacy.raster import FILL_RGB
from webgis_export.privacy.remask import remask
from webgis_export.publish import publish
from webgis_export.service import LayerStore
from webgis_export.tms import get_tms

FLIGHT = "privacy-test"
GSD = 0.05
ORIGIN = (560000.0, 6215600.0)
TOKEN = "privacy-gis-token"
ZONE_25832 = [(560012.0, 6215590.0), (560030.0, 6215592.0), (560028.0, 6215574.0), (560011.0, 6215576.0)]


def zone_file(path: Path, shift_east: float = 0.0) -> Path:
    """A GeoJSON zone whose corners are given in longitude/latitude (EPSG:4326)."""
    to_wgs84 = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)
    ring = [to_wgs84.transform(x + shift_east, y) for x, y in ZONE_25832]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        ],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def photo(data_dir: Path) -> np.ndarray:
    """A real drone photo (Brighton Beach, DJI Phantom 3) as 4-band RGBA, 1200 x 675, a nodata strip."""
    bgr = cv2.imread(str(data_dir / "brighton_beach" / "images" / "DJI_0018.JPG"))
    rgb = cv2.cvtColor(cv2.resize(bgr, (1200, 675), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:, :40] = 0
    return np.concatenate([np.moveaxis(rgb, -1, 0), alpha[np.newaxis]])


def make_product(workspace: Workspace, data_dir: Path, kind: ProductKind = ProductKind.ORTHOPHOTO) -> Product:
    folder = workspace.products(FLIGHT)
    transform = Affine(GSD, 0, ORIGIN[0], 0, -GSD, ORIGIN[1])
    write_cog_array(
        photo(data_dir), folder / "ortho.tif", "ortho_jpeg", transform=transform, crs="EPSG:25832"
    )
    with rasterio.open(folder / "ortho.tif") as src:
        bounds = tuple(src.bounds)
    product = Product(
        id=f"{FLIGHT}-{kind.value}", flight=FLIGHT, kind=kind, path=f"products/{FLIGHT}/ortho.tif",
        crs="EPSG:25832", bounds=bounds, gsd_m=GSD, time_start=CAPTURE,
    )  # fmt: skip
    workspace.products_json(FLIGHT).write_text(
        json.dumps([product.model_dump(mode="json")]), encoding="utf-8"
    )
    return product


def inside_mask(zones: Path, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    """The zone's pixels computed independently: geopandas reprojection, GDAL rasterize (all touched)."""
    geometry = gpd.read_file(zones).to_crs("EPSG:25832").geometry.iloc[0]
    return rasterize([(geometry, 1)], out_shape=shape, transform=transform, all_touched=True).astype(bool)


def dilate(mask: np.ndarray, pixels: int) -> np.ndarray:
    kernel = np.ones((2 * pixels + 1, 2 * pixels + 1), np.uint8)
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


def erode(mask: np.ndarray, pixels: int) -> np.ndarray:
    kernel = np.ones((2 * pixels + 1, 2 * pixels + 1), np.uint8)
    return cv2.erode(mask.astype(np.uint8), kernel).astype(bool)


def detail(grey: np.ndarray, where: np.ndarray) -> float:
    """High-frequency energy: variance of the Laplacian over ``where``."""
    return float(cv2.Laplacian(grey.astype(np.float64), cv2.CV_64F)[where].var())


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict[str, object]:
    """The same product published twice: without zones (reference) and with a zone in EPSG:4326."""
    root = tmp_path_factory.mktemp("privacy")
    zones = zone_file(root / "zones.geojson")
    out: dict[str, object] = {"zones": zones}
    for name, config in (("plain", PrivacyConfig()), ("masked", PrivacyConfig(zones=zones))):
        ws = Workspace.at(root / name)
        make_product(ws, data_dir)
        (layer,) = publish(ws, FLIGHT, access="internal", now=NOW, pyramid_processes=1, privacy=config)
        out[name] = (ws, layer)
    return out


def test_cog_inside_no_detail_outside_bit_identical(sites: dict[str, object]) -> None:
    ws, layer = sites["masked"]  # type: ignore[misc]
    product = ws.products(FLIGHT) / "ortho.tif"
    with rasterio.open(product) as src:
        original, transform, valid = src.read(), src.transform, src.dataset_mask()
    with rasterio.open(ws.publish / layer.cog) as src:
        masked, masked_valid = src.read(), src.dataset_mask()
    inside = inside_mask(sites["zones"], transform, valid.shape)  # type: ignore[arg-type]
    assert inside.sum() > 10_000
    data = inside & (valid > 0)
    for band, value in enumerate(FILL_RGB):
        assert (masked[band][data] == value).all()
    grey_before = cv2.cvtColor(np.moveaxis(original[:3], 0, -1), cv2.COLOR_RGB2GRAY)
    grey_after = cv2.cvtColor(np.moveaxis(masked[:3], 0, -1), cv2.COLOR_RGB2GRAY)
    core = erode(data, 1)
    assert detail(grey_before, core) > 50.0  # the photo has detail there
    assert detail(grey_after, core) == 0.0 and grey_after[core].std() == 0.0
    outside = ~dilate(inside, 1)  # one pixel of tolerance for the zone's reprojection
    assert np.array_equal(original[:, outside], masked[:, outside])
    assert np.array_equal(valid, masked_valid)
    stamp = read_stamp(ws.published_layer(layer.id))
    assert stamp.method == "fill" and 0 < stamp.masked_share < 0.2 and layer.privacy == stamp


def getmap(url: str, layer: str, bounds: tuple[float, ...], size: tuple[int, int]) -> np.ndarray:
    params = {
        "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": layer, "STYLES": "",
        "CRS": "EPSG:25832", "BBOX": ",".join(f"{v:.3f}" for v in bounds), "WIDTH": size[0],
        "HEIGHT": size[1], "FORMAT": "image/png", "TRANSPARENT": "TRUE", "token": TOKEN,
    }  # fmt: skip
    response = httpx.get(f"{url}/wms", params=params, timeout=60)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png", response.text[
        :300
    ]
    image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_UNCHANGED)
    return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB)


def settings(ws: Workspace, zones: Path | None) -> Settings:
    return Settings(
        workspace=ws.root, tokens=(Token(token=TOKEN, role="gis", name="gitte"),), privacy_zones=zones
    )


@pytest.mark.network
def test_getmap_and_tiles_inside_masked_outside_unchanged(sites: dict[str, object]) -> None:
    (ws_plain, plain), (ws_masked, masked) = sites["plain"], sites["masked"]  # type: ignore[misc]
    zones = sites["zones"]
    size = (plain.width, plain.height)
    images, fetched = {}, {}
    with rasterio.open(ws_plain.publish / plain.cog) as src:
        transform = src.transform
    tms, (z, _) = "View1", (max(plain.pyramids["View1"]), 0)
    for name, ws, layer, zone in (("plain", ws_plain, plain, None), ("masked", ws_masked, masked, zones)):
        with live_server(create_app(settings(ws, zone))) as url:  # type: ignore[arg-type]
            images[name] = getmap(url, layer.id, layer.bounds, size)
            fetched[name] = tile_images(url, layer.id, tms, z)
    inside = inside_mask(zones, transform, (size[1], size[0]))  # type: ignore[arg-type]
    data = erode(inside, 1) & (images["plain"][..., 3] > 0)
    assert (images["masked"][..., :3][data] == FILL_RGB).all()
    outside = ~dilate(inside, 1)
    assert np.array_equal(images["plain"][outside], images["masked"][outside])
    assert fetched["plain"]
    for key, (plain_tile, zone) in fetched["plain"].items():
        masked_tile = fetched["masked"][key][0]
        core = erode(zone, 8)  # a JPEG block inside the edge: ringing of the flat fill stays out
        if core.sum() < 200:
            continue
        before = cv2.cvtColor(plain_tile, cv2.COLOR_RGB2GRAY)
        after = cv2.cvtColor(masked_tile, cv2.COLOR_RGB2GRAY)
        assert detail(before, core) > 20.0, key
        assert detail(after, core) < 0.5, (key, detail(after, core), detail(before, core))  # flat fill
        residue = after[core].astype(float) - after[core].mean()
        if residue.std() > 0:  # a flat tile has no correlation with anything; else measure it
            assert abs(np.corrcoef(before[core].astype(float), residue)[0, 1]) < 0.1, key
        far = ~dilate(zone, 24)  # beyond a JPEG block (and chroma upsampling) of the zone
        assert np.array_equal(plain_tile[far], masked_tile[far]), key


def tile_images(
    url: str, layer_id: str, tms_id: str, z: int
) -> dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]:
    """Tiles of level ``z`` over the zone, as served: {(row, col): (rgb, the zone in tile pixels)}."""
    matrix = get_tms(tms_id).matrix(z)
    x0, y0 = matrix.pointOfOrigin
    span = matrix.cellSize * matrix.tileWidth
    xs, ys = [p[0] for p in ZONE_25832], [p[1] for p in ZONE_25832]
    found = {}
    for row in range(int((y0 - max(ys)) // span), int((y0 - min(ys)) // span) + 1):
        for col in range(int((min(xs) - x0) // span), int((max(xs) - x0) // span) + 1):
            address = f"{url}/tiles/{layer_id}/{tms_id}/{z}/{col}/{row}.jpg"
            response = httpx.get(address, params={"token": TOKEN}, timeout=60)
            assert response.status_code == 200, address
            bgr = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
            where = Affine(matrix.cellSize, 0, x0 + col * span, 0, -matrix.cellSize, y0 - row * span)
            zone = rasterize(
                [(Polygon(ZONE_25832), 1)], out_shape=bgr.shape[:2], transform=where, all_touched=True
            )
            found[(row, col)] = (cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), zone.astype(bool))
    return found


def test_moving_the_zone_and_remasking_moves_the_mask(sites: dict[str, object], tmp_path: Path) -> None:
    """A copy of the masked site; the zone moves 20 m east; the service withholds until --remask."""
    import shutil

    ws_masked, layer = sites["masked"]  # type: ignore[misc]
    ws = Workspace.at(tmp_path / "moved")
    shutil.copytree(ws_masked.root, ws.root)
    moved = zone_file(tmp_path / "moved.geojson", shift_east=20.0)
    store = LayerStore(ws, PublicationGate(ws, moved))
    with pytest.raises(LayerNotFound):
        store.get(layer.id, internal=True)
    assert layer.id in store.withheld_ids() and store.layers() == []
    (again,) = remask(ws, PrivacyConfig(zones=moved), now=NOW)
    assert store.get(layer.id, internal=True).published_at == again.published_at
    with rasterio.open(ws.products(FLIGHT) / "ortho.tif") as src:
        original, transform = src.read(), src.transform
    with rasterio.open(ws.publish / again.cog) as src:
        masked = src.read()
    old = inside_mask(sites["zones"], transform, original.shape[1:])  # type: ignore[arg-type]
    new = inside_mask(moved, transform, original.shape[1:])
    assert new.sum() > 10_000
    freed = old & ~dilate(new, 1)
    assert np.array_equal(original[:, freed], masked[:, freed])  # the old zone shows the product again
    assert (masked[0][erode(new, 1)] == FILL_RGB[0]).all()
    assert np.array_equal(original[:, ~dilate(new, 1)], masked[:, ~dilate(new, 1)])
    item = json.loads((ws.publish / again.stac_item).read_text(encoding="utf-8"))
    assert item["properties"]["dronegis:privacy"]["zones"] == read_stamp(ws.published_layer(layer.id)).zones


def test_frames_are_internal_unless_made_public_with_a_reason(tmp_path: Path, data_dir: Path) -> None:
    ws = Workspace.at(tmp_path / "frames")
    make_product(ws, data_dir, ProductKind.RGB_FRAME)
    (layer,) = publish(ws, FLIGHT, access="public", now=NOW, pyramids=False, privacy=PrivacyConfig())
    assert layer.access == "internal" and "public_frames" not in layer.overrides
    reason = "the site owner agreed; nobody in the frames"
    (layer,) = publish(
        ws, FLIGHT, access="public", now=NOW, pyramids=False, privacy=PrivacyConfig(public_frames=reason)
    )
    assert layer.access == "public" and layer.overrides["public_frames"] == reason
    item = json.loads((ws.publish / layer.stac_item).read_text(encoding="utf-8"))
    assert item["properties"]["dronegis:overrides"]["public_frames"] == reason
    assert item["properties"]["dronegis:access"] == "public"


@pytest.mark.network
def test_a_remask_makes_every_client_fetch_the_masked_tiles_again(tmp_path: Path, data_dir: Path) -> None:
    """Tiles are cached but revalidated (no-cache + ETag of the publication): a remask changes the ETag."""
    ws = Workspace.at(tmp_path / "ws")
    make_product(ws, data_dir)
    (layer,) = publish(ws, FLIGHT, access="public", now=NOW, pyramid_processes=1, privacy=PrivacyConfig())
    matrix = get_tms("View1").matrix(15)
    span = matrix.cellSize * matrix.tileWidth
    x, y = ZONE_25832[0]
    col, row = int((x - matrix.pointOfOrigin[0]) // span), int((matrix.pointOfOrigin[1] - y) // span)
    path = f"/tiles/{layer.id}/View1/15/{col}/{row}.jpg"
    with live_server(create_app(settings(ws, None))) as url:
        first = httpx.get(url + path, timeout=60)
        assert first.status_code == 200 and first.headers["cache-control"] == "public, no-cache"
        old = first.headers["etag"]
        again = httpx.get(url + path, headers={"If-None-Match": old}, timeout=60)
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == old
    zones = zone_file(tmp_path / "zones.geojson")
    remask(ws, PrivacyConfig(zones=zones), now=NOW.replace(year=NOW.year + 1))
    with live_server(create_app(settings(ws, zones))) as url:
        after = httpx.get(url + path, headers={"If-None-Match": old}, timeout=60)
        assert (
            after.status_code == 200 and after.headers["etag"] != old
        )  # the cached unmasked tile is replaced
        assert after.content != first.content
        kvp = {
            "SERVICE": "WMTS",
            "REQUEST": "GetTile",
            "VERSION": "1.0.0",
            "LAYER": layer.id,
            "STYLE": "default",
        }
        kvp |= {
            "TILEMATRIXSET": "View1",
            "TILEMATRIX": 15,
            "TILEROW": row,
            "TILECOL": col,
            "FORMAT": "image/jpeg",
        }
        same = httpx.get(
            f"{url}/wmts", params=kvp, headers={"If-None-Match": after.headers["etag"]}, timeout=60
        )
        assert same.status_code == 304
