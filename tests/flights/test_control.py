"""Control-file parsers on every real variant, and clear failures on bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ControlFileError
from flights.control import parse_crs, read_control_file
from flights.control_logs import read_mrk_text

# (path under data_dir, format, crs, points, observations)
VALID = [
    ("odm_test_gcp/tests/assets/gcp_extras.txt", "odm_gcp_list", "EPSG:32616", 1, 3),
    ("odm_test_gcp/tests/assets/gcp_latlon_valid.txt", "odm_gcp_list", "EPSG:4326", 2, 2),
    ("odm_test_gcp/tests/assets/gcp_latlon_south.txt", "odm_gcp_list", "EPSG:4326", 1, 1),
    ("odm_test_gcp/tests/assets/gcp_michigan_feet_valid.txt", "odm_gcp_list", "EPSG:2251", 1, 1),
    ("odm_test_gcp/tests/assets/gcp_utm_north_valid.txt", "odm_gcp_list", "EPSG:32616", 1, 3),
    ("odm_test_gcp/tests/test_data/gcp_list.txt", "odm_gcp_list", "EPSG:32617", 5, 18),
    ("odm_test_gcp/tests/test_data/gcp_list_by_photo.txt", "odm_gcp_list", "EPSG:32617", 5, 18),
    ("odm_test_gcp/tests/test_data/cameras_32617.txt", "image_positions", "EPSG:32617", 57, 0),
    ("odm_data_copr/gcp_list.txt", "odm_gcp_list", "EPSG:32611", 10, 27),
    ("odm_data_copr/gcp_list_noimg.txt", "named_coordinates", "EPSG:4326", 10, 0),
    ("odm_data_copr/GPS_average.txt", "csv", "EPSG:4326", 10, 0),
    ("opensfm_berlin/data/berlin/gcp_list.txt", "odm_gcp_list", "EPSG:4326", 10, 26),
    ("odm_br/gcp_list.txt", "odm_gcp_list", "EPSG:32722", 6, 25),
    ("odm_br/odm_gcp_br/gcp_list_floatxy_raw.txt", "odm_gcp_list", "EPSG:32722", 19, 82),
    ("odm_data_bellus/gcp_list.txt", "odm_gcp_list", "EPSG:32617", 4, 4),
    ("odm_data_helenenschacht/GCP/gcp_list.txt", "odm_gcp_list", "EPSG:4326", 5, 35),
    ("odm_data_helenenschacht/GCP/latlon-easting_northing.csv", "csv", "EPSG:4326", 5, 0),
    ("webodm_fixtures/app/fixtures/gcp.txt", "odm_gcp_list", "EPSG:32615", 3, 5),
    ("webodm_fixtures/app/fixtures/video.srt", "srt", "EPSG:4326", 3, 0),
]


@pytest.mark.parametrize(("rel", "fmt", "crs", "points", "observations"), VALID)
def test_real_control_files(
    data_dir: Path, rel: str, fmt: str, crs: str, points: int, observations: int
) -> None:
    cf = read_control_file(data_dir / rel, rel)
    assert (cf.format, cf.crs, len(cf.points)) == (fmt, crs, points)
    assert sum(len(p.observations) for p in cf.points) == observations
    assert all(p.crs == crs for p in cf.points)
    assert len({p.name for p in cf.points}) == points


def test_gcp_list_details(data_dir: Path) -> None:
    cf = read_control_file(data_dir / "odm_test_gcp/tests/test_data/gcp_list.txt", "gcp_list.txt")
    by_name = {p.name: p for p in cf.points}
    # GCP02 has no id in the file: grouped by coordinates, named by position.
    assert set(by_name) == {"HV01", "gcp_2", "HV03", "HV04", "HV05"}
    hv01 = by_name["HV01"]
    assert (hv01.x, hv01.y, hv01.z) == (274914.738, 4603349.014, 400.0)
    assert [o.image for o in hv01.observations] == ["DJI_0068.JPG", "DJI_0104.JPG", "1JI_0076.JPG"]
    assert hv01.observations[2].row == pytest.approx(1506.619)  # the commented "bad" line is skipped


def test_latlon_is_lon_lat_order(data_dir: Path) -> None:
    cf = read_control_file(data_dir / "opensfm_berlin/data/berlin/gcp_list.txt", "gcp_list.txt")
    assert cf.points[0].x == pytest.approx(13.4007407457) and cf.points[0].y == pytest.approx(52.519134104)
    south = read_control_file(data_dir / "odm_test_gcp/tests/assets/gcp_latlon_south.txt", "s.txt")
    assert south.points[0].y < 0


def test_check_points_by_name_and_by_file(tmp_path: Path, data_dir: Path) -> None:
    f = tmp_path / "gcp_list.txt"
    f.write_text("EPSG:25832\n560000 6215000 50 10 20 a.jpg GCP1\n560010 6215010 51 30 40 a.jpg chk_02\n")
    roles = {p.name: p.role for p in read_control_file(f, "gcp_list.txt").points}
    assert roles == {"GCP1": "gcp", "chk_02": "check"}
    chk = read_control_file(data_dir / "odm_br/odm_gcp_br/gcp_list_chk_raw.txt", "gcp_list_chk_raw.txt")
    assert {p.role for p in chk.points} == {"check"} and len(chk.points) == 15
    forced = read_control_file(data_dir / "odm_br/odm_gcp_br/gcp_list_chk_raw.txt", "x.txt", role="gcp")
    assert {p.role for p in forced.points} == {"gcp"}


def test_nan_z_becomes_none_and_nan_xy_fails(tmp_path: Path) -> None:
    f = tmp_path / "gcp_list.txt"
    f.write_text("WGS84 UTM 32N\n560000 6215000 NaN 10 20 a.jpg P1\n")
    (point,) = read_control_file(f, "gcp_list.txt").points
    assert point.z is None and point.crs == "EPSG:32632"
    f.write_text("EPSG:25832\n560000 nan 5 10 20 a.jpg P1\n")
    with pytest.raises(ControlFileError, match=r"gcp_list.txt line 2: coordinate is NaN"):
        read_control_file(f, "gcp_list.txt")


def test_geo_txt(tmp_path: Path) -> None:
    f = tmp_path / "geo.txt"
    f.write_text("EPSG:4326\nDJI_0001.JPG 9.93 56.04 120.5 45 -90 0 0.02 0.03\nDJI_0002.JPG 9.931 56.041\n")
    cf = read_control_file(f, "geo.txt")
    assert cf.format == "geo.txt" and [p.name for p in cf.points] == ["DJI_0001.JPG", "DJI_0002.JPG"]
    assert (cf.points[0].z, cf.points[0].survey_std_h_m, cf.points[0].survey_std_v_m) == (120.5, 0.02, 0.03)
    assert cf.points[1].z is None


def test_mrk(data_dir: Path) -> None:
    path = data_dir / "odm_data_helenenschacht/RTK_Data/101FTASK_Timestamp.mrk"
    events = read_mrk_text(path.read_text(), path.name)
    first = events[0]
    assert (first.event, first.gps_week, first.quality, first.fixed) == (2, 2211, 50, True)
    assert (first.lat, first.lon, first.ellipsoid_height_m) == (47.6436873208, 16.4759271684, 512.998)
    assert (first.offset_n_mm, first.offset_e_mm, first.offset_v_mm) == (3.0, 0.0, 75.0)
    assert first.std_v_m == pytest.approx(0.029694)
    cf = read_control_file(path, "RTK_Data/101FTASK_Timestamp.mrk")
    assert cf.format == "mrk" and cf.crs == "EPSG:4979" and len(cf.points) == len(events)
    assert cf.points[0].survey_std_h_m == pytest.approx(0.014391)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("EPSG:25832", "EPSG:25832"),
        ("WGS84 UTM 32N", "EPSG:32632"),
        ("WGS84 UTM 22S", "EPSG:32722"),
        ("+proj=utm +zone=32 +ellps=GRS80 +units=m +no_defs", "EPSG:25832"),
        ("WGS84", "EPSG:4326"),
    ],
)
def test_crs_headers(header: str, expected: str) -> None:
    assert parse_crs(header, "f.txt")[0] == expected


BAD = [
    ("webodm_fixtures/app/fixtures/gcp_malformed.txt", r"gcp_malformed.txt line 2: unknown CRS '<O_O>'"),
    ("odm_data_copr/gcp_list_nocoord.txt", r"line 1: the first line must be the CRS"),
    ("odm_br/odm_gcp_br/qgis/qgis5350.txt", r"line 1: the first line must be the CRS"),
    (
        "odm_test_gcp/tests/test_data/old_gcp_list.txt",
        r"old_gcp_list.txt line 7: expected 'x y z px py image",
    ),
]


@pytest.mark.parametrize(("rel", "message"), BAD)
def test_bad_real_files_fail_clearly(data_dir: Path, rel: str, message: str) -> None:
    with pytest.raises(ControlFileError, match=message):
        read_control_file(data_dir / rel, Path(rel).name)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("EPSG:999999\n1 2 3 4 5 a.jpg\n", r"line 1: unknown CRS 'EPSG:999999'"),
        ("WGS84 UTM 75N\n1 2 3 4 5 a.jpg\n", r"UTM zone 75 out of range"),
        (
            "EPSG:25832\n560000 6215000 5 1 2 a.jpg P0\n560000 6215000 5 x 20 a.jpg P0\n",
            r"line 3: pixel x 'x' is not",
        ),
        ("EPSG:25832\n560000 6215000 5 x 20 a.jpg P1\n", r"line 2: unrecognised control line"),
        (
            "EPSG:25832\n560000 6215000 5 10 20 a.jpg P1\n560001 6215000 5 10 20 b.jpg P1\n",
            r"line 3: point 'P1'",
        ),
        ("EPSG:4326\n56.04 9.93 5 10 20 a.jpg\n56.04 200 5 10 20 a.jpg\n", r"not longitude/latitude"),
        ("EPSG:25832\n9.93 56.04 5 10 20 a.jpg\n", r"looks like degrees"),
        ("EPSG:25832\n", r"no data lines"),
        ("", r"no data lines"),
        ("# only a comment\n", r"no data lines"),
    ],
)
def test_bad_synthetic_files_fail_clearly(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "gcp_list.txt"
    f.write_text(text)
    with pytest.raises(ControlFileError, match=message):
        read_control_file(f, "gcp_list.txt")


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ControlFileError, match="missing.txt: cannot read"):
        read_control_file(tmp_path / "missing.txt", "missing.txt")


def test_helenenschacht_lonlat_matches_surveyed_utm33(data_dir: Path) -> None:
    """gcp_list.txt (EPSG:4326, lon lat order) through PROJ lands on the surveyor's UTM 33N values."""
    import csv

    from pyproj import Transformer

    gcp = read_control_file(data_dir / "odm_data_helenenschacht/GCP/gcp_list.txt", "gcp_list.txt")
    table = (data_dir / "odm_data_helenenschacht/GCP/latlon-easting_northing.csv").read_text(
        encoding="utf-8-sig"
    )
    surveyed = {row["Name"]: row for row in csv.DictReader(table.splitlines(), delimiter=";")}
    to_utm = Transformer.from_crs(gcp.crs, "EPSG:32633", always_xy=True)
    for point in gcp.points:
        e, n = to_utm.transform(point.x, point.y)
        row = surveyed[point.name]
        assert e == pytest.approx(float(row["Easting"]), abs=0.05)  # the table itself disagrees by 2.4 cm
        assert n == pytest.approx(float(row["Northing"]), abs=0.05)
        assert point.z == pytest.approx(float(row["Elevation"]))
