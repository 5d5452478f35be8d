"""What a person reads about a layer, in Danish or English: a title they can tell apart, and trust.

- **Title**: purpose (from the product kind), place, date flown — ``Termografi, Skanderborg
  Rådhus, 3. dec. 2026``. The place is the site name a person gave (upload, ``publish
  --site``), else the postal district the layer lies in (:mod:`webgis_export.places`).
  Titles within one list never repeat: two flights with the same title get their local
  time, then their flight id.
- **Trust**: date flown and age, freshness *now* (the rules of :mod:`qa.freshness`, not the
  status frozen at publication), accuracy in numbers and words (NSSDA 95 %, REFERENCE.md
  §1.4: 1.7308 · RMSE_r horizontally, 1.96 · RMSE_z vertically) with how many check points,
  the height datum, the QA status of *this* layer with its reasons, the approval note.
  A layer whose accuracy nobody measured is never called passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from core.errors import QAError
from core.i18n import Lang, day, has, length, text
from core.localtime import local, local_date
from core.models import Frozen
from pipeline.models import Evidence, HeightDatum, ProductKind
from qa.freshness import evaluate
from qa.texts import check_title
from webgis_export.models import Layer, QAFinding
from webgis_export.places import locality_of

FEW_POINTS = 20  # below ASPRS 2014's minimum the figure is called uncertain
KNOWN_ACCURACY = frozenset({"measured", "estimated"})
QAState = Literal["pass", "warn", "fail", "not_run", "unmeasured"]
_RANK = {"pass": 0, "skip": 1, "warn": 2, "fail": 3}
GUIDE_SECTIONS = {
    ProductKind.THERMAL_MOSAIC: "thermal",
    ProductKind.THERMAL_FRAME: "thermal",
    ProductKind.ORTHOPHOTO: "orthophoto",
    ProductKind.RGB_FRAME: "orthophoto",
    ProductKind.DSM: "heights",
    ProductKind.DTM: "heights",
}
DATUM_KEYS = {
    HeightDatum.DVR90: "datum.dvr90",
    HeightDatum.ELLIPSOIDAL: "datum.ellipsoidal",
    HeightDatum.UNKNOWN: "datum.unknown",
    HeightDatum.NOT_APPLICABLE: "datum.not_applicable",
}


class AccuracyText(Frozen):
    """Accuracy in words and numbers (95 % figures in metres, ``None`` when not known)."""

    known: bool
    evidence: str
    text: str
    horizontal_95_m: float | None = None
    vertical_95_m: float | None = None
    points: int | None = None
    caution: str | None = None


class QAText(Frozen):
    """This layer's QA verdict for people, with the reasons behind it."""

    status: QAState
    label: str
    reasons: tuple[str, ...] = ()


class LayerText(Frozen):
    """Everything the viewer, the print and the info panel say about one layer."""

    title: str
    kind: str
    kind_group: str
    place: str | None
    place_source: str | None
    flown: str
    flown_day: str | None
    age: str | None
    freshness: str
    freshness_status: str
    accuracy: AccuracyText
    datum: str
    qa: QAText
    approval: str | None
    group: str
    area: str
    guide: str


def kind_key(kind: ProductKind) -> str:
    """The catalogue key of a product kind (``kind.thermal_mosaic``; ``kind.other`` if unlisted)."""
    return kind.value if has(f"kind.{kind.value}") else "other"


def purpose_label(layer: Layer, lang: Lang) -> str:
    """``Termografi``; single frames add their frame (``Enkeltbillede DJI_0002, tilpasset til GCP'er``)."""
    label = text(f"kind.{kind_key(layer.kind)}", lang)
    if layer.kind is ProductKind.VEGETATION_INDEX:
        return f"{label} {layer.style.title}"  # the index: Vegetationsindeks ExG
    if layer.kind not in (ProductKind.RGB_FRAME, ProductKind.THERMAL_FRAME):
        return label
    rest = layer.product_id.removeprefix(f"{layer.flight}-")
    frame_kind, _, frame = rest.partition("-")
    name = f"{label} {frame or rest}"
    return text("kind.gcp_fitted", lang, name=name) if frame_kind.startswith("gcp") else name


def locality(layer: Layer) -> str | None:
    """The layer's postal district: recorded at publication, else derived now (older layers)."""
    return layer.locality or locality_of(layer.bounds_wgs84)


def place_of(layer: Layer) -> tuple[str | None, str | None]:
    """(place for the title, where it came from): the site name, else the postal district's name."""
    if layer.site:
        return layer.site, "site"
    district = locality(layer)
    if district:
        return district.split(" ", 1)[-1], "locality"
    return None, None


def flown_text(layer: Layer, lang: Lang) -> str:
    """``3. dec. 2026 kl. 06:00`` (Copenhagen time), or why the date is unknown."""
    when = layer.capture_time
    if when is None:
        if layer.captured_before is not None:
            return text("time.before", lang, day=day(local_date(layer.captured_before), lang))
        return text("time.unknown", lang)
    return f"{day(local_date(when), lang)} {text('time.at', lang, hm=local(when).strftime('%H:%M'))}"


def age_text(layer: Layer, now: datetime, lang: Lang) -> str | None:
    """``12 dage gammel`` from the capture time, or ``None`` when undated."""
    when = layer.capture_time
    if when is None:
        return None
    days = (now - local(when)).total_seconds() / 86400.0
    if days < 1:
        return text("time.today", lang)
    if days < 60:
        whole = round(days)
        return text("time.one_day", lang) if whole == 1 else text("time.days", lang, n=whole)
    if days < 730:
        return text("time.months", lang, n=round(days / 30.44))
    return text("time.years", lang, n=round(days / 365.25))


def freshness_text(layer: Layer, now: datetime, lang: Lang) -> tuple[str, str]:
    """(status, words) of the layer's freshness at ``now`` under the kind's rule."""
    when = layer.capture_time
    if when is None:
        return "unknown", text("freshness.unknown", lang)
    try:
        state = evaluate(layer.kind.value, when, now)
    except QAError:
        status = layer.freshness or "unknown"
        return status, text(
            f"freshness.{status}" if has(f"freshness.{status}") else "freshness.unknown", lang
        )
    label = text(f"freshness.{state.status}", lang)
    if state.stale_on is None:
        return state.status, label
    key = "freshness.expired" if state.status == "stale" else "freshness.until"
    return state.status, text(key, lang, label=label, day=day(state.stale_on, lang))


#: The figures of an accuracy statement in the order, and with the labels, a one-line summary uses.
ACCURACY_LABELS = (
    ("rmse_h_m", "RMSE_H", " m"),
    ("rmse_v_m", "RMSE_V", " m"),
    ("nssda_h95_m", "NSSDA 95 % H", " m"),
    ("nssda_v95_m", "NSSDA 95 % V", " m"),
    ("ce90_m", "CE90", " m"),
    ("le90_m", "LE90", " m"),
    ("n", "n", ""),
    ("n_z", "n_z", ""),
)


def accuracy_line(figures: Mapping[str, object]) -> str:
    """An accuracy statement (:meth:`pipeline.models.Accuracy.figures`) on one line, for OGC clients.

    ``RMSE_H 0.042 m, NSSDA 95 % H 0.073 m, CE90 0.064 m, n 12, class met, check_points (measured);
    fewer than 30 check points``.
    """
    parts = [
        f"{label} {value:.3g}{unit}" if unit else f"{label} {value}"
        for key, label, unit in ACCURACY_LABELS
        if isinstance(value := figures.get(key), int | float) and not isinstance(value, bool) and value
    ]
    met = figures.get("class_met")
    if isinstance(met, bool):
        parts.append("class met" if met else "class not met")
    line = ", ".join([*parts, f"{figures.get('source')} ({figures.get('evidence')})"])
    warnings = figures.get("warnings")
    return line + (
        "; " + "; ".join(str(w) for w in warnings) if isinstance(warnings, list | tuple) and warnings else ""
    )


def accuracy_text(layer: Layer, lang: Lang) -> AccuracyText:
    """Accuracy in words: measured at check points, estimated from a GCP fit, or not measured."""
    acc = layer.accuracy
    evidence = layer.accuracy_evidence or (acc.evidence.value if acc is not None else "not measured")
    if acc is not None and evidence == "measured" and acc.evidence is Evidence.MEASURED:
        points, h95, v95 = acc.n or acc.n_z, acc.nssda_h95_m, acc.nssda_v95_m
        if points and (h95 is not None or v95 is not None):
            return _measured(points, h95, v95, lang)
    if acc is not None and evidence == "estimated" and acc.evidence is Evidence.ESTIMATED and acc.nssda_h95_m:
        words = text("accuracy.estimated", lang, h95=length(acc.nssda_h95_m, lang), n=acc.n)
        return AccuracyText(known=True, evidence="estimated", text=words, horizontal_95_m=acc.nssda_h95_m)
    return AccuracyText(known=False, evidence=evidence, text=text("accuracy.not_measured", lang))


def _measured(points: int, h95: float | None, v95: float | None, lang: Lang) -> AccuracyText:
    """A measured accuracy in words: horizontal (and vertical) 95 % figures over ``points`` check points."""
    if h95 is not None:
        key = "accuracy.measured_one" if points == 1 else "accuracy.measured"
        words = text(key, lang, h95=length(h95, lang), n=points)
        if v95 is not None:
            words += "; " + text("accuracy.vertical", lang, v95=length(v95, lang))
    else:
        words = text("accuracy.vertical_only", lang, v95=length(v95 or 0.0, lang), n=points)
    caution = text("accuracy.few_points", lang) if points < FEW_POINTS else None
    return AccuracyText(
        known=True,
        evidence="measured",
        text=words,
        horizontal_95_m=h95,
        vertical_95_m=v95,
        points=points,
        caution=caution,
    )


def qa_text(layer: Layer, accuracy: AccuracyText, lang: Lang) -> QAText:
    """This layer's QA status: the worst of its own findings; never ``pass`` without known accuracy."""
    reasons = tuple(_reason(f, lang) for f in layer.qa_findings)
    if layer.qa_status is None:
        return QAText(status="not_run", label=text("qa.not_run", lang))
    if layer.qa_findings:
        worst = max((f.status for f in layer.qa_findings), key=_RANK.__getitem__)
        status: QAState = "warn" if worst == "skip" else worst
    elif layer.qa_status in ("warn", "fail") and layer.accuracy_evidence is None:
        # published before findings were recorded: keep the flight's verdict and point to its report
        return QAText(
            status=layer.qa_status,
            label=text(f"qa.{layer.qa_status}", lang),
            reasons=(text("qa.see_report", lang),),
        )
    else:
        status = "pass"
    if status == "pass" and not accuracy.known:
        return QAText(status="unmeasured", label=text("qa.unmeasured", lang), reasons=reasons)
    return QAText(status=status, label=text(f"qa.{status}", lang), reasons=reasons)


def _reason(finding: QAFinding, lang: Lang) -> str:
    return text(
        "qa.reason", lang, title=check_title(finding.check, finding.title, lang), message=finding.message
    )


def approval_text(layer: Layer, lang: Lang) -> str | None:
    """Who approved publication and why; overrides of the publication gates; else ``None``."""
    parts: list[str] = []
    if layer.approval is not None:
        key = "qa.approved" if layer.approval.by else "qa.approved_anonymous"
        parts.append(text(key, lang, by=layer.approval.by or "", reason=layer.approval.reason))
    elif layer.qa_override:
        parts.append(text("qa.gate_override", lang, reason=layer.qa_override))
    if layer.approval is None:
        for gate, reason in sorted(layer.overrides.items()):
            gate_key = f"qa.gate_{gate}"
            gate_text = text(gate_key, lang) if has(gate_key) else gate
            parts.append(text("qa.override", lang, gate=gate_text, reason=reason))
    return " ".join(parts) or None


def base_title(layer: Layer, lang: Lang) -> str:
    """Purpose, place and day flown (not yet made unique within a list)."""
    place, _ = place_of(layer)
    when = layer.capture_time
    when_text = day(local_date(when), lang) if when is not None else text("time.unknown", lang)
    return ", ".join(part for part in (purpose_label(layer, lang), place, when_text) if part)


def unique_titles(layers: Sequence[Layer], lang: Lang) -> dict[str, str]:
    """Layer id → title, unique within ``layers``: the local time, then the flight id, tell twins apart."""
    titles = {layer.id: base_title(layer, lang) for layer in layers}
    for refine in (_with_time, _with_flight, _with_id):
        seen: dict[str, list[Layer]] = {}
        for layer in layers:
            seen.setdefault(titles[layer.id], []).append(layer)
        for twins in (group for group in seen.values() if len(group) > 1):
            for layer in twins:
                titles[layer.id] = refine(titles[layer.id], layer, lang)
    return titles


def _with_time(title: str, layer: Layer, lang: Lang) -> str:
    when = layer.capture_time
    return f"{title} {text('time.at', lang, hm=local(when).strftime('%H:%M'))}" if when else title


def _with_flight(title: str, layer: Layer, lang: Lang) -> str:
    return f"{title} ({layer.flight})"


def _with_id(title: str, layer: Layer, lang: Lang) -> str:
    return f"{title} [{layer.id}]"


def areas(layers: Sequence[Layer]) -> dict[str, str]:
    """Layer id → area id: layers whose footprints overlap (transitively) share an area.

    The area id is the smallest layer id in it; the viewer's time slider moves between the
    flights of one area.
    """
    parent = {layer.id: layer.id for layer in layers}

    def root(item: str) -> str:
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for i, a in enumerate(layers):
        for b in layers[i + 1 :]:
            if _overlap(a.bounds_wgs84, b.bounds_wgs84):
                first, second = sorted((root(a.id), root(b.id)))
                parent[second] = first
    return {layer.id: root(layer.id) for layer in layers}


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def describe_layers(layers: Sequence[Layer], lang: Lang, now: datetime) -> dict[str, LayerText]:
    """Layer id → what people read about it, for one list of layers (titles unique within it)."""
    titles = unique_titles(layers, lang)
    area_of = areas(layers)
    out: dict[str, LayerText] = {}
    for layer in layers:
        place, source = place_of(layer)
        when = layer.capture_time
        accuracy = accuracy_text(layer, lang)
        fresh_status, fresh_words = freshness_text(layer, now, lang)
        group_parts = [place or text("place.unknown", lang)]
        group_parts.append(day(local_date(when), lang) if when else text("time.unknown", lang))
        out[layer.id] = LayerText(
            title=titles[layer.id],
            kind=text(f"kind.{kind_key(layer.kind)}", lang),
            kind_group=text(f"kinds.{kind_key(layer.kind)}", lang),
            place=layer.site or locality(layer),
            place_source=text(f"place.{source}", lang) if source else None,
            flown=flown_text(layer, lang),
            flown_day=local_date(when).isoformat() if when else None,
            age=age_text(layer, now, lang),
            freshness=fresh_words,
            freshness_status=fresh_status,
            accuracy=accuracy,
            datum=text(DATUM_KEYS.get(layer.height_datum, "datum.unknown"), lang),
            qa=qa_text(layer, accuracy, lang),
            approval=approval_text(layer, lang),
            group=", ".join(group_parts),
            area=area_of[layer.id],
            guide=f"/guide?lang={lang}#{GUIDE_SECTIONS.get(layer.kind, 'reading')}",
        )
    return out
