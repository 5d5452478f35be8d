"""Uploads under concurrency and hostility, over real HTTP on 127.0.0.1 (uvicorn, httpx threads).

- 20 writers upload two versions of one file by resumable PUT (one restarts at byte 0 half-way):
  each ends with the file stored, unchanged or a 409, and the stored file is one whole version.
- 10 parallel PUTs into a flight whose limit holds 4 of them: never more than the limit is staged.
- Hostile zips, PUTs and multipart names answer 4xx, nothing is unpacked, and finish is not stuck.
"""

from __future__ import annotations

import hashlib
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from svc_helpers import PILOT, Service, auth
from test_upload_store import zip_bytes

pytestmark = [pytest.mark.network, pytest.mark.slow]
LIMIT = 10_000_000
PIECE = 32 * 1024


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("uploads") / "ws"
    env = {"DRONEGIS_MAX_UPLOAD_BYTES": str(LIMIT)}
    with Service(root, root.parent / "service.log", env=env) as svc:
        yield svc


def _create(url: str, flight: str) -> None:
    r = httpx.post(f"{url}/api/flights", json={"id": flight, "purpose": "survey"}, headers=auth(PILOT))
    assert r.status_code == 201, r.text


def _writer(url: str, flight: str, data: bytes, restart: bool) -> int:
    """One client's resumable PUT of ``data`` in pieces; the status of its last answer."""
    path = f"{url}/api/flights/{flight}/files/DCIM/DJI_0001.JPG"
    headers = auth(PILOT)
    offset, restarted = 0, False
    with httpx.Client(timeout=60) as client:
        while True:
            piece = data[offset : offset + PIECE]
            rng = f"bytes {offset}-{offset + len(piece) - 1}/{len(data)}"
            r = client.put(path, content=piece, headers={**headers, "Content-Range": rng})
            if r.status_code != 200:
                return r.status_code  # 201 stored, 409 a conflict, anything else a failure
            if r.json()["complete"]:
                return 200  # identical to the version stored by another writer
            headers = {**auth(PILOT), "Upload-Id": r.headers["Upload-Id"]}
            offset = int(r.headers["Upload-Offset"])
            if restart and not restarted and offset >= len(data) // 2:
                offset, restarted = 0, True  # this client starts again from byte 0
            time.sleep(0.002)


def test_twenty_writers_of_two_versions(service: Service) -> None:
    _create(service.url, "race")
    # 20 × 400 kB stay inside the 10 MB limit: each session reserves its declared length
    versions = [bytes([v]) * 400_000 + hashlib.sha256(bytes([v])).digest() for v in (1, 2)]
    with ThreadPoolExecutor(20) as pool:
        futures = [
            pool.submit(_writer, service.url, "race", versions[i % 2], i == 7)  # 1 of 20 restarts (5 %)
            for i in range(20)
        ]
        statuses = [f.result(timeout=300) for f in futures]
    assert set(statuses) <= {200, 201, 409}, statuses
    assert statuses.count(201) == 1  # one version won
    stored = (service.workspace / "uploads" / "race" / "files" / "DCIM" / "DJI_0001.JPG").read_bytes()
    assert stored in versions  # one whole version, never a mix
    winner = versions.index(stored)
    for i, status in enumerate(statuses):
        assert status in ((200, 201) if i % 2 == winner else (409,)), (i, status)
    listing = httpx.get(f"{service.url}/api/flights/race/files", headers=auth(PILOT)).json()
    assert [f["status"] for f in listing["files"]] == ["uploaded"]
    assert httpx.post(f"{service.url}/api/flights/race/finish", headers=auth(PILOT)).status_code == 202


def _staged_bytes(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file() and path.suffix != ".json":
                total += path.stat().st_size
        except FileNotFoundError:
            continue
    return total


def test_the_limit_holds_under_ten_parallel_puts(service: Service) -> None:
    _create(service.url, "limit")
    size = 2_400_000  # 4 fit in the 10 MB limit, 10 do not
    folder = service.workspace / "uploads" / "limit"
    peak, done = [0], threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _staged_bytes(folder))
            time.sleep(0.005)

    def put(i: int) -> int:
        data = bytes([i]) * size

        def slowly() -> Iterator[bytes]:  # no Content-Length: the server counts what arrives
            for start in range(0, size, PIECE):
                yield data[start : start + PIECE]
                time.sleep(0.001)

        body = slowly() if i % 2 else data
        r = httpx.put(
            f"{service.url}/api/flights/limit/files/f{i}.bin", content=body, headers=auth(PILOT), timeout=120
        )
        return r.status_code

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(10) as pool:
            statuses = list(pool.map(put, range(10)))
    finally:
        done.set()
        watcher.join(10)
    assert set(statuses) <= {201, 413}, statuses
    stored = statuses.count(201)
    assert 1 <= stored <= LIMIT // size
    assert peak[0] <= LIMIT, peak[0]  # never more staged than the limit, even in flight
    listing = httpx.get(f"{service.url}/api/flights/limit/files", headers=auth(PILOT)).json()
    assert listing["bytes"] == stored * size and listing["counts"] == {"uploaded": stored}
    refused = httpx.put(
        f"{service.url}/api/flights/limit/files/big.bin", content=bytes(LIMIT), headers=auth(PILOT)
    )
    assert (
        refused.status_code == 413
        and "MB" in refused.json()["message"]
        and "bytes" not in refused.json()["message"]
    )


@pytest.mark.parametrize(
    "entries",
    [
        [("a", b"1"), ("a/b", b"2")],
        [("c/d", b"1"), ("c", b"2")],
        [("x" * 256 + ".jpg", b"1")],
        [("dup.jpg", b"1"), ("ok.jpg", b"2"), ("dup.jpg", b"3")],
    ],
    ids=["a+a/b", "c/d+c", "255+", "duplicate"],
)
def test_hostile_zips_answer_4xx_and_unpack_nothing(
    service: Service, entries: list[tuple[str, bytes]]
) -> None:
    flight = "zip-" + hashlib.sha256(repr(entries).encode()).hexdigest()[:8]
    _create(service.url, flight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        data = zip_bytes(entries)
    r = httpx.post(f"{service.url}/api/flights/{flight}/zip", content=data, headers=auth(PILOT))
    assert r.status_code == 400, r.text
    assert r.json()["messages"]["da"] and r.json()["messages"]["en"]
    assert not (service.workspace / "uploads" / flight / "files").exists() or not any(
        (service.workspace / "uploads" / flight / "files").iterdir()
    )
    assert httpx.post(f"{service.url}/api/flights/{flight}/finish", headers=auth(PILOT)).status_code == 409


def test_hostile_puts_and_multipart_names(service: Service) -> None:
    _create(service.url, "names")
    base = f"{service.url}/api/flights/names"
    assert httpx.put(f"{base}/files/a", content=b"file", headers=auth(PILOT)).status_code == 201
    child = httpx.put(f"{base}/files/a/b", content=b"child", headers=auth(PILOT))
    assert child.status_code == 409
    long_name = "b" * 300
    r = httpx.post(f"{base}/files", files=[("f", (long_name, b"x", "image/jpeg"))], headers=auth(PILOT))
    assert r.status_code == 400 and "300" in r.json()["message"]
    assert httpx.put(f"{base}/files/{'c' * 256}", content=b"x", headers=auth(PILOT)).status_code == 400
    assert httpx.put(
        f"{base}/files/..%2F..%2Fetc%2Fpasswd", content=b"x", headers=auth(PILOT)
    ).status_code in (400, 404)
    latin1 = httpx.put(f"{base}/files/billede_%E6%F8%E5.JPG", content=b"dk", headers=auth(PILOT))
    assert latin1.status_code == 201 and latin1.json()["path"] == "billede_æøå.JPG"
    finish = httpx.post(f"{base}/finish", headers=auth(PILOT))
    assert finish.status_code == 202, finish.text  # nothing left pending: the flight is not stuck
