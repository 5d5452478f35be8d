"""One bad unit of work is reported with its reason; it never sinks the flight (issue 18).

A frame whose header claims 60 000 x 60 000 pixels (archived before ingest refused such frames) is
refused before any decode; a GCP with a non-finite or absurd coordinate is a GeoreferenceError
naming it (was numpy's LinAlgError: "SVD did not converge"); what numpy or OpenCV raise inside one
frame's or one fit's task is in the failures a task reports instead of raising.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.errors import GeoreferenceError, ImplausibleImageError
from core.workspace import Workspace
from flights.ingest import ingest_folder
from flights.ingest_config import IngestConfig
from flights.sample import make_sample_flight
from pipeline.executors import UNIT_FAILURES
from pipeline.frames.render import read_image
from pipeline.gcp.fit import GcpPair, fit_gcps
from pipeline.models import ProductKind
from pipeline.process import process_flight

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "robustness"))
from hostile_flight import header_bomb  # noqa: E402

PAIRS = [
    GcpPair("a", 10, 10, 557000, 6212000),
    GcpPair("b", 700, 20, 557030, 6212000),
    GcpPair("c", 30, 500, 557000, 6211980),
    GcpPair("d", 600, 550, 557028, 6211978),
]


def test_a_header_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    make_sample_flight(tmp_path / "sample")
    good = tmp_path / "sample" / "DJI_0001.JPG"
    bomb = tmp_path / "bomb.JPG"
    bomb.write_bytes(header_bomb(good.read_bytes(), 60_000, 60_000))
    assert read_image(good).shape == (3, 600, 800)
    with pytest.raises(ImplausibleImageError, match=r"bomb\.JPG: the header announces 60000x60000 pixels"):
        read_image(bomb)


@pytest.mark.parametrize("bad", [1e300, float("nan"), float("inf"), -1e12])
def test_a_gcp_with_an_absurd_coordinate_is_named(bad: float) -> None:
    pairs = [*PAIRS, GcpPair("GCP7", bad, 300, 557015, 6211990)]
    with pytest.raises(GeoreferenceError, match=r"^GCP GCP7: pixel \("):
        fit_gcps(pairs, order=1)
    assert fit_gcps(pairs[:4], order=1).residuals  # the same fit without it works


def test_what_numpy_and_opencv_raise_on_hostile_input_is_a_unit_failure() -> None:
    raised = []
    for hostile in (
        lambda: np.linalg.svd(np.full((3, 3), np.nan)),
        lambda: cv2.resize(np.zeros((0, 0), np.uint8), (4, 4)),
        lambda: np.zeros(1) / np.zeros(1) if np.seterr(all="raise") else None,
    ):
        try:
            hostile()
        except Exception as exc:  # noqa: BLE001 - what is raised is the subject
            raised.append(exc)
        finally:
            np.seterr(all="warn")
    assert len(raised) == 3 and all(isinstance(exc, UNIT_FAILURES) for exc in raised), raised


@pytest.mark.slow
def test_a_header_bomb_in_the_archive_leaves_the_other_frames_processed(tmp_path: Path) -> None:
    """A frame archived before ingest refused header bombs: process georeferences every other frame."""
    make_sample_flight(tmp_path / "delivery")
    ws = Workspace.at(tmp_path / "ws")
    ingest_folder(
        tmp_path / "delivery", IngestConfig.for_workspace(ws, "bomb", datetime(2026, 6, 1, tzinfo=UTC))
    )
    archived = ws.archived_file("bomb", "DJI_0003.JPG")
    archived.write_bytes(header_bomb(archived.read_bytes(), 60_000, 60_000))
    products = process_flight(ws, "bomb")
    frames = {
        Path(p.source_files[0]).name for p in products if p.kind == ProductKind.RGB_FRAME and p.source_files
    }
    assert {"DJI_0001.JPG", "DJI_0002.JPG", "DJI_0004.JPG", "DJI_0005.JPG", "DJI_0006.JPG"} <= frames
    assert "DJI_0003.JPG" not in frames
