"""QA of a DSM/DTM's vertical datum: where the decision came from, what it is, the geoid height N.

The decision itself is made by ``pipeline.geodesy.decision`` when the product is made and
stored on the product (``Product.datum``); QA reports it and judges it:

- pass: the heights are in DVR90 (file CRS, declaration or geoid test) and nothing contradicts it;
- warn: the datum is unknown or ellipsoidal (not the municipality's DVR90), a declaration
  was contradicted (the warning names the file), or the product predates the decision.
"""

from __future__ import annotations

from pipeline.models import HeightDatum, Product
from qa.models import CheckResult, Status

SOURCE_TEXT = {
    "file_crs": "filens lodrette CRS / the file's vertical CRS",
    "declaration": "erklæring ved levering / the delivery's declaration",
    "geoid_test": "geoidetest / the geoid test",
    "default": "ingen kilde / no source",
}


def datum_check(product: Product) -> CheckResult:
    """The datum check of one DSM/DTM (id ``datum.<product>``)."""
    cid, title = f"datum.{product.id}", f"Højdedatum / height datum of {product.id}"
    decision = product.datum
    if decision is None:
        return CheckResult(
            id=cid,
            title=title,
            status="warn",
            figures={"decision": product.height_datum.value, "source": None, "geoid_n_m": None},
            message=f"{product.id}: datumbeslutningen er ikke registreret (kør process igen) / the datum "
            f"decision is not recorded (process the flight again); labelled {product.height_datum.value}",
        )
    n = f"{decision.geoid_n_m:.2f} m" if decision.geoid_n_m is not None else "ukendt / unknown (no grid)"
    status: Status = "pass" if decision.datum is HeightDatum.DVR90 and not decision.warnings else "warn"
    message = (
        f"{product.id}: {decision.datum.value}; kilde / source: {SOURCE_TEXT[decision.source.value]}; "
        f"geoidehøjde N i midten / geoid height N at the centre: {n}"
    )
    if decision.datum is not HeightDatum.DVR90:
        message += "; højderne er ikke i DVR90 / the heights are not in DVR90"
    if decision.warnings:
        message += "; " + "; ".join(decision.warnings)
    figures: dict[str, object] = {
        "source": decision.source.value,
        "decision": decision.datum.value,
        "geoid_n_m": decision.geoid_n_m,
        "delivered": decision.delivered.value,
        "vertical_crs": decision.vertical_crs,
        "crs": decision.crs,
        "share_below_geoid": decision.share_below_geoid,
        "conversion": decision.conversion,
        "warnings": list(decision.warnings),
        "note": decision.note,
    }
    return CheckResult(id=cid, title=title, status=status, figures=figures, message=message)
