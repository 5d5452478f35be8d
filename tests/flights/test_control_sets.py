"""Control points from several sources: one point per target, conflicts named, check points never fitted."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyproj import Transformer

from flights.control import read_control_file
from flights.control_sets import PointSource, delivered_sources, merge_sources
from flights.models import ControlPoint, PixelObservation


def _point(name: str, x: float, y: float, role: str = "check", crs: str = "EPSG:25832") -> ControlPoint:
    obs = (PixelObservation(image="a.jpg", col=10.0, row=20.0),)
    return ControlPoint(name=name, x=x, y=y, z=50.0, crs=crs, role=role, observations=obs)


def test_same_target_in_two_sources_counts_once() -> None:
    first = [_point("CHK1", 560000.0, 6215000.0), _point("CHK2", 560010.0, 6215000.0)]
    again = [_point("chk1", 560000.01, 6215000.0), _point("CHK3", 560020.0, 6215000.0)]
    merged = merge_sources(
        [PointSource("chk.txt", "delivered", first), PointSource("extra.txt", "checkpoints", again)]
    )
    assert [p.name for p in merged.points] == ["CHK1", "CHK2", "CHK3"]
    assert [(s.file, s.points, s.duplicates, s.check_duplicates) for s in merged.sources] == [
        ("chk.txt", 2, 0, 0),
        ("extra.txt", 2, 1, 1),
    ]
    assert merged.points[0].observations == first[0].observations  # identical observation kept once
    assert not merged.conflicts


def test_same_target_in_another_crs_is_a_duplicate() -> None:
    lon, lat = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True).transform(560000.0, 6215000.0)
    merged = merge_sources(
        [
            PointSource("a.txt", "delivered", [_point("T1", 560000.0, 6215000.0)]),
            PointSource("b.csv", "checkpoints", [_point("T1", lon, lat, crs="EPSG:4326")]),
        ]
    )
    assert len(merged.points) == 1 and merged.sources[1].duplicates == 1


def test_same_name_elsewhere_is_a_conflict_naming_both_sources() -> None:
    merged = merge_sources(
        [
            PointSource("delivered_chk.txt", "delivered", [_point("CHK1", 560000.0, 6215000.0)]),
            PointSource("surveyor.txt", "checkpoints", [_point("CHK1", 560001.0, 6215000.0)]),
        ]
    )
    assert merged.points == ()  # ambiguous survey: left out, not merged silently
    (conflict,) = merged.conflicts
    assert conflict.first == "delivered_chk.txt" and conflict.second == "surveyor.txt"
    assert conflict.distance_m == pytest.approx(1.0, abs=0.01)
    assert "delivered_chk.txt" in conflict.message and "surveyor.txt" in conflict.message
    assert merged.sources[1].conflicts == 1


def test_generated_names_match_by_position_and_a_check_point_is_never_fitted() -> None:
    gcps = [
        _point("gcp_1", 560000.0, 6215000.0, role="gcp"),
        _point("gcp_2", 560050.0, 6215000.0, role="gcp"),
    ]
    checks = [_point("CHK7", 560050.0, 6215000.0), _point("gcp_1", 560099.0, 6215000.0)]
    merged = merge_sources(
        [PointSource("gcp_list.txt", "delivered", gcps), PointSource("check.txt", "delivered", checks)]
    )
    # gcp_2 and CHK7 are one target (it takes the real name and stays a check point); the second
    # gcp_1 is a generated name at another place: another target, not a conflict
    assert [(p.name, p.role, p.x) for p in merged.points] == [
        ("gcp_1", "gcp", 560000.0),
        ("CHK7", "check", 560050.0),
        ("gcp_1", "check", 560099.0),
    ]
    assert merged.gcp_in == {"CHK7": ("gcp_list.txt",)} and not merged.conflicts


def test_odm_br_delivered_files_hold_nineteen_targets(data_dir: Path) -> None:
    """odm_br's five ODM files repeat its 19 painted targets (HV01–HV19); gcp_list_chk_raw.txt marks 15."""
    base = data_dir / "odm_br"
    files = [
        "gcp_list.txt",
        "odm_gcp_br/gcp_list.txt",
        "odm_gcp_br/gcp_list_chk_raw.txt",
        "odm_gcp_br/gcp_list_floatxy_raw.txt",
        "odm_gcp_br/gcp_list_raw.txt",
    ]
    control = [read_control_file(base / f, f) for f in files]
    merged = merge_sources(delivered_sources(control))
    assert sorted(p.name for p in merged.points) == [f"HV{i:02d}" for i in range(1, 20)]
    assert len(merged.check_points()) == 15
    assert sum(s.points for s in merged.sources) == 6 + 6 + 15 + 19 + 6
    assert not merged.conflicts
