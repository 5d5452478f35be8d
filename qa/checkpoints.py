"""The flight's check points from every source, merged once, and the check that lists the sources.

Sources, in this order: the control files delivered with the flight (the flight folder, or
the files uploaded through the API, which ingest reads the same way), then the check-point
file given to QA (``dronegis qa --checkpoints FILE``, the job option ``checkpoints``). A
target delivered and passed again counts once (``flights.control_sets``); the ``checkpoints``
check lists each source with its count and its duplicates, names conflicting surveys, and
warns below the ASPRS Edition 2 minimum of 30 check points.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from core.errors import ControlFileError, QAError
from flights.control import read_control_file
from flights.control_sets import MergedControl, PointSource, delivered_sources, merge_sources
from flights.models import Flight
from qa.models import CheckResult
from qa.precision import ASPRS_MIN_CHECKPOINTS, count_warning

ORIGIN_TEXT = {"delivered": "delivered", "checkpoints": "given to QA"}


def gather_checkpoints(flight: Flight, extra: Path | None) -> MergedControl:
    """The flight's control points merged with those of an extra check-point file (all its points checks).

    Raises:
        QAError: the extra file cannot be read (the message names the file and the line).
    """
    sources = delivered_sources(flight.control)
    if extra is not None:
        try:
            parsed = read_control_file(Path(extra), Path(extra).name, role="check")
        except ControlFileError as exc:
            raise QAError(f"check-point file {extra}: {exc}") from exc
        sources.append(PointSource(Path(extra).name, "checkpoints", parsed.points))
    return merge_sources(sources)


def checkpoints_check(merged: MergedControl, min_count: int = ASPRS_MIN_CHECKPOINTS) -> CheckResult:
    """Pass with enough unique check points from consistent sources; warn otherwise."""
    points = merged.check_points()
    n = len(points)
    parts = [
        f"{s.file} ({ORIGIN_TEXT[s.origin]}): {s.check_points}, of which {s.check_duplicates} duplicates"
        for s in merged.sources
        if s.check_points
    ]
    problems = [c.message for c in merged.conflicts]
    if n == 0:
        problems.append(
            "ingen kontrolpunkter, nøjagtigheden kan ikke måles / "
            "no check points: accuracy cannot be measured (deliver a CHK file, or --checkpoints)"
        )
    else:
        problems += [w for w in (count_warning(n, min_count),) if w]
    if merged.gcp_in:
        problems.append(_also_gcp(merged.gcp_in))
    message = f"{n} unikke kontrolpunkter / {n} unique check points" + (
        f" (sources: {'; '.join(parts)})" if parts else ""
    )
    figures: dict[str, object] = {
        "unique": n,
        "names": [p.name for p in points],
        "min_count": min_count,
        "sources": [s.model_dump() for s in merged.sources],
        "conflicts": [c.model_dump() for c in merged.conflicts],
        "also_gcp": {name: list(files) for name, files in merged.gcp_in.items()},
    }
    return CheckResult(
        id="checkpoints",
        title="Check points and their sources",
        status="warn" if problems else "pass",
        figures=figures,
        message="; ".join([message, *problems]),
    )


def _also_gcp(gcp_in: dict[str, tuple[str, ...]]) -> str:
    """How many check points each delivered file lists as GCPs."""
    per_file = Counter(file for files in gcp_in.values() for file in files)
    listed = ", ".join(f"{file}: {count}" for file, count in per_file.most_common())
    return (
        f"{len(gcp_in)} kontrolpunkter er også GCP'er / "
        f"{len(gcp_in)} check points are also GCPs in delivered files ({listed}): "
        "independent only of products not fitted to them"
    )
