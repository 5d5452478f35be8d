"""The buildings' cards: ``GET /layers/{layer}/cards/{name}`` (HTML card and its PNG images).

A published vector layer whose features name a card (the buildings layer) carries its cards
(:mod:`webgis_export.vectors.cards`). They follow the layer's access rule: a card of an
internal layer is answered only to a valid token and is absent (404) otherwise, like the
layer. A card page asked for with a query token gets the token on its image links, so its
pictures load in a browser that cannot send a header.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from dronegis.api.ogc import Who, store_of
from webgis_export.vectors.cards import card_file, with_token

router = APIRouter(tags=["features"])


@router.get(
    "/layers/{layer}/cards/{name}",
    summary="A building's card (HTML, Danish then English) or one of its images",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "image/png": {}}}, 404: {"description": "no such card"}},
)
def card(request: Request, who: Who, layer: str, name: str) -> Response:
    """The card ``name`` (``<key>.html``, ``<key>_thermal.png`` …) of the vector layer ``layer``."""
    store = store_of(request)
    found = store.vectors.get(layer, who.internal)
    path, media_type = card_file(store.workspace.publish, found, name)
    if media_type.startswith("text/html"):
        token = who.token if who.token_in_query else None
        return Response(with_token(path.read_text(encoding="utf-8"), token), media_type=media_type)
    return FileResponse(path, media_type=media_type)
