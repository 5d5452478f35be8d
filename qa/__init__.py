"""Quality assurance: precision, image quality, coverage, freshness, thermography conditions.

The everyday names are here::

    from qa import QAConfig, run_qa

    report = run_qa(workspace, "f1", now=now, config=QAConfig(checkpoints=path))

matplotlib is imported when the first plot is drawn, not with this package.
"""

from qa.catalog_freshness import catalog_freshness
from qa.conditions import Measured, evaluate_conditions, gate
from qa.freshness import DEFAULT_RULES
from qa.freshness import evaluate as evaluate_freshness
from qa.image_quality import thermal_check
from qa.measure import measure_product, pixel_to_world
from qa.models import CheckResult, QAReport
from qa.plots import error_histogram, error_vectors_plot, freshness_timeline, thermal_histogram
from qa.precision import accuracy, tolerance_for, verdict
from qa.report import build_report, read_report, write_report
from qa.run import QAConfig, run_qa
from qa.transfer import annotation_mask, features, transfer_points

__all__ = [
    "DEFAULT_RULES",
    "CheckResult",
    "Measured",
    "QAConfig",
    "QAReport",
    "accuracy",
    "annotation_mask",
    "build_report",
    "catalog_freshness",
    "error_histogram",
    "error_vectors_plot",
    "evaluate_conditions",
    "evaluate_freshness",
    "features",
    "freshness_timeline",
    "gate",
    "measure_product",
    "pixel_to_world",
    "read_report",
    "run_qa",
    "thermal_check",
    "thermal_histogram",
    "tolerance_for",
    "transfer_points",
    "verdict",
    "write_report",
]
