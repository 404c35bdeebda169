"""The negotiation fast path answers as DRF's own negotiation would."""

import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from contestplatform.negotiation import ContentNegotiation


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
@pytest.mark.parametrize("query", ["", "?format=api"])
def test_plain_requests_get_what_drf_would_give(accept: str | None, query: str) -> None:
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get("/x/" + query, **headers))
    renderers = [JSONRenderer(), BrowsableAPIRenderer()]

    assert _outcome(ContentNegotiation(), request, renderers) == _outcome(
        DefaultContentNegotiation(), request, renderers
    )


def _outcome(
    negotiation: DefaultContentNegotiation,
    request: Request,
    renderers: list[BaseRenderer],
) -> tuple[object, str]:
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers)
    except NotAcceptable:
        return NotAcceptable, ""
    return type(renderer), media_type


def test_anything_else_goes_through_drf() -> None:
    request = Request(APIRequestFactory().get("/x/", HTTP_ACCEPT="text/html"))
    renderers = [JSONRenderer(), BrowsableAPIRenderer()]

    renderer, media_type = ContentNegotiation().select_renderer(request, renderers)

    assert isinstance(renderer, BrowsableAPIRenderer)
    assert media_type == "text/html"


def test_an_unacceptable_request_is_still_refused(api) -> None:
    response = api.get("/api/v1/contests/", HTTP_ACCEPT="text/csv")

    assert response.status_code == 406
    assert response.json()["errors"][0]["code"] == "not_acceptable"
