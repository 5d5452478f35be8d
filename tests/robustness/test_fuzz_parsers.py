"""A short run of the parser fuzzer (the long run: ``tests/robustness/fuzz_parsers.py --executions 1000000``).

Every mutated delivery file either parses or raises an error of the project's tree; the harness
itself is checked to report what it should find.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz_parsers import Target, build_targets, run

from core.errors import DroneGisError


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> list[Target]:
    return build_targets(tmp_path_factory.mktemp("fuzz-seeds"))


def test_every_parser_raises_only_project_errors(targets: list[Target], tmp_path: Path) -> None:
    assert {t.name for t in targets} == {"frame", "xmp", "flir", "control", "world"}
    assert all(t.seeds for t in targets)
    report = run(targets, 2_500, seed=20261206, work=tmp_path, crash_dir=tmp_path / "crashes")
    assert report.crashes == [], [c.error for c in report.crashes[:5]]
    assert report.total == 2_500
    for target in targets:  # the mutations reach both outcomes: some inputs still parse, some are refused
        refused = report.project_errors.get(target.name, 0)
        assert 0 < refused < report.executions[target.name], (target.name, refused)


def test_the_harness_reports_what_is_not_a_project_error(tmp_path: Path) -> None:
    def picky(path: Path, name: str) -> object:
        data = path.read_bytes()
        if data[:1] == b"X":
            raise DroneGisError(f"{name}: starts with X")
        if len(data) != 8:
            raise ValueError(f"{name}: {len(data)} bytes")  # what a crash looks like
        return data

    target = Target("picky", {"seed.bin": b"ABCDEFGH"}, picky)
    report = run([target], 300, seed=1, work=tmp_path, crash_dir=tmp_path / "crashes")
    assert report.crashes and report.crashes[0].error.startswith("ValueError: seed.bin: ")
    assert Path(report.crashes[0].saved).read_bytes() != b"ABCDEFGH"
    assert report.total == 300
