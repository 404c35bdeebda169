"""Hostile and odd inputs on every endpoint: each gets its 4xx in the shape.

contestplatform/tests/test_platform.py checks the parser on registration;
here bodies go to every write of the schema, and numbers, unicode, query
strings and path ids go where each kind can do harm.
"""

import json

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from conftest import client_for
from leaderboards.models import Submission
from tests.security.world import OPERATIONS, World, make_world
from tests.support import is_error_shape

pytestmark = pytest.mark.django_db

# Writes that read a body; the others (join, publish...) never parse one.
WRITES = [op for op in OPERATIONS if op.body]
LIMIT = settings.DATA_UPLOAD_MAX_MEMORY_SIZE


@pytest.fixture
def world() -> World:
    return make_world()


def _assert_4xx(response, status: int | None = None) -> None:
    assert 400 <= response.status_code < 500, (
        response.status_code,
        response.content[:300],
    )
    if status is not None:
        assert response.status_code == status, response.content[:300]
    assert is_error_shape(response.json()), response.content[:300]


def _raw(client: APIClient, operation, url: str, body: bytes, content_type: str):
    method = getattr(client, operation.method.lower())
    return method(url, body, content_type=content_type)


BODIES = {
    "oversized": (b'{"x": "' + b"a" * (LIMIT + 10) + b'"}', 413),
    "deeply_nested": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, None),
    "nan": (b'{"score": NaN, "delta": NaN, "display_name": NaN}', 400),
    "infinity": (b'{"score": Infinity, "delta": -Infinity}', 400),
    "truncated": (b'{"score": 5', 400),
    "not_utf8": (b'{"display_name": "\xff\xfe"}', 400),
    "digits_beyond_the_parser": (b'{"score": ' + b"9" * 5000 + b"}", 400),
    "array": (b"[1, 2, 3]", 400),
    "bare_string": (b'"hello"', 400),
}


@pytest.mark.parametrize("kind", BODIES)
@pytest.mark.parametrize("operation", WRITES, ids=str)
def test_a_bad_body_is_a_4xx_on_every_write(world: World, operation, kind) -> None:
    body, status = BODIES[kind]
    client = client_for(world.admin)
    client.raise_request_exception = False
    if kind == "deeply_nested":
        # Over the limit it would be a 413 before it is parsed.
        body = body[: LIMIT - 1]

    response = _raw(client, operation, world.url(operation), body, "application/json")

    _assert_4xx(response, status)


CONTENT_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "application/json-patch+json",
]


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize("operation", WRITES, ids=str)
def test_a_body_that_is_not_json_is_415_on_every_write(
    world: World, operation, content_type: str
) -> None:
    client = client_for(world.admin)

    response = _raw(client, operation, world.url(operation), b"score=5", content_type)

    _assert_4xx(response, 415)


SCORES = [
    2**63 - 1,
    2**63,
    -(2**63),
    -(2**63) - 1,
    2**64,
    2**53 + 1,
    10**100,
    1e308,
    5.0,
    "5",
    True,
    None,
    [5],
    {"value": 5},
]


@pytest.mark.parametrize("score", SCORES, ids=repr)
def test_a_score_that_is_no_bounded_json_integer_is_400(world: World, score) -> None:
    client = client_for(world.player)
    url = f"/api/v1/contests/{world.contest.slug}/submissions/"
    before = Submission.objects.count()

    response = client.post(
        url, json.dumps({"score": score}), content_type="application/json"
    )

    _assert_4xx(response, 400)
    assert response.json()["errors"][0]["attr"] == "score"
    assert Submission.objects.count() == before


@pytest.mark.parametrize("delta", [2**53, 2**63, -(2**63) - 1, 1.5, "1"], ids=repr)
def test_an_adjustment_beyond_the_exact_range_is_400(world: World, delta) -> None:
    client = client_for(world.admin)
    url = f"/api/v1/contests/{world.contest.slug}/entries/{world.player.pk}/adjust/"

    response = client.post(
        url,
        json.dumps({"delta": delta, "reason": "x"}),
        content_type="application/json",
    )

    _assert_4xx(response, 400)


NAMES = {
    "empty": "",
    "spaces": "   ",
    "zero_width": "\u200b\u200b\u200b",
    "rtl_override": "abc\u202edef",
    "combining_only": "\u0301\u0301\u0301",
    "nul": "ab\u0000cd",
    "lone_surrogate": "ab\ud800cd",
    "emoji": "\U0001f600\U0001f600\U0001f600",
    "newline": "ab\ncd",
    "too_long": "a" * 500,
    "html": "<script>x</script>",
}


def _json_bytes(data: dict) -> bytes:
    # ensure_ascii keeps a lone surrogate as the escape JSON allows.
    return json.dumps(data, ensure_ascii=True).encode()


@pytest.mark.parametrize("kind", NAMES)
def test_a_display_name_outside_the_rules_is_400_on_register_and_me(
    world: World, api: APIClient, kind: str
) -> None:
    name = NAMES[kind]
    register = api.post(
        "/api/v1/auth/register/",
        _json_bytes(
            {
                "email": f"{kind}@example.com",
                "password": "a-long-enough-passphrase",
                "display_name": name,
            }
        ),
        content_type="application/json",
    )
    me = client_for(world.player).patch(
        "/api/v1/auth/me/",
        _json_bytes({"display_name": name}),
        content_type="application/json",
    )

    _assert_4xx(register, 400)
    _assert_4xx(me, 400)
    assert register.json()["errors"][0]["attr"] == "display_name"
    world.player.refresh_from_db()
    assert world.player.display_name != name


def test_a_look_alike_of_a_taken_name_is_taken(world: World, api: APIClient) -> None:
    taken = world.other.display_name
    # Fullwidth letters fold to the same name under NFKC.
    fullwidth = "".join(
        chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in taken
    )

    response = client_for(world.player).patch(
        "/api/v1/auth/me/", {"display_name": fullwidth}
    )

    _assert_4xx(response, 400)
    assert response.json()["errors"][0]["code"] == "unique"


PAGES = {
    "negative_offset": ({"offset": -1}, 400),
    "huge_offset": ({"offset": 10**30}, 400),
    "offset_not_a_number": ({"offset": "ten"}, 400),
    "zero_limit": ({"limit": 0}, 400),
    "negative_limit": ({"limit": -5}, 400),
    "huge_limit": ({"limit": 10**30}, 200),
    "float_limit": ({"limit": "1.5"}, 400),
    "too_many_users": ({"users": ",".join(str(i) for i in range(1, 500))}, 400),
    "users_not_numbers": ({"users": "1,two"}, 400),
    "users_huge": ({"users": str(10**30)}, 400),
    "users_empty": ({"users": ","}, 400),
    "view_unknown": ({"view": "everything"}, 400),
    "nul_in_view": ({"view": "\x00"}, 400),
}


@pytest.mark.parametrize("kind", PAGES)
def test_leaderboard_paging_edges(world: World, kind: str) -> None:
    params, status = PAGES[kind]

    response = APIClient().get(
        f"/api/v1/contests/{world.contest.slug}/leaderboard/", params
    )

    assert response.status_code == status, response.content[:300]
    if status == 200:
        assert response.json()["limit"] == 200
    else:
        _assert_4xx(response)


@pytest.mark.parametrize(
    "params",
    [{"neighbours": -1}, {"neighbours": "x"}, {"neighbours": 10**30}],
    ids=str,
)
def test_leaderboard_me_neighbour_edges(world: World, params) -> None:
    response = client_for(world.player).get(
        f"/api/v1/contests/{world.contest.slug}/leaderboard/me/", params
    )

    if params["neighbours"] == 10**30:
        assert response.status_code == 200
    else:
        _assert_4xx(response, 400)


LIST_QUERIES = [
    ("/api/v1/users/", {"search": "\x00"}),
    ("/api/v1/users/", {"search": "a" * 10_000}),
    ("/api/v1/users/", {"role": "\x00"}),
    ("/api/v1/users/", {"role": "GOD"}),
    ("/api/v1/users/", {"is_active": "\x00"}),
    ("/api/v1/users/", {"page": 10**30}),
    ("/api/v1/users/", {"page": -1}),
    ("/api/v1/users/", {"page": "\x00"}),
    ("/api/v1/contests/", {"state": "\x00"}),
    ("/api/v1/contests/", {"page": 0}),
    ("/api/v1/contests/", {"page": 10**30}),
    ("/api/v1/contests/{slug}/submissions/", {"user": 10**30}),
    ("/api/v1/contests/{slug}/submissions/", {"user": "\x00"}),
    ("/api/v1/contests/{slug}/submissions/", {"page": 10**30}),
]


@pytest.mark.parametrize(("path", "params"), LIST_QUERIES, ids=str)
def test_a_list_query_out_of_range_is_a_4xx_or_ignored(
    world: World, path: str, params: dict
) -> None:
    client = client_for(world.admin)
    client.raise_request_exception = False

    response = client.get(path.format(slug=world.contest.slug), params)

    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        _assert_4xx(response)


HUGE = 10**30
PATH_IDS = [
    ("GET", f"/api/v1/users/{HUGE}/"),
    ("PATCH", f"/api/v1/users/{HUGE}/"),
    ("GET", "/api/v1/users/abc/"),
    ("GET", "/api/v1/contests/{slug}/leaderboard/users/" + f"{HUGE}/"),
    ("POST", "/api/v1/contests/{slug}/entries/" + f"{HUGE}/hide/"),
    ("POST", "/api/v1/contests/{slug}/entries/" + f"{HUGE}/adjust/"),
    ("GET", "/api/v1/contests/" + "s" * 300 + "/"),
    ("GET", "/api/v1/contests/%C3%BC/"),
]


@pytest.mark.parametrize(("method", "path"), PATH_IDS, ids=str)
def test_an_id_in_the_path_beyond_any_row_is_404(
    world: World, method: str, path: str
) -> None:
    client = client_for(world.admin)
    client.raise_request_exception = False
    body = {"delta": 1, "reason": "x"} if "adjust" in path else {"role": "USER"}

    response = getattr(client, method.lower())(
        path.format(slug=world.contest.slug), body, format="json"
    )

    _assert_4xx(response, 404)


@pytest.mark.parametrize(
    "key", ["", "k" * 129, "naïve", "has space", "tab\tkey"], ids=repr
)
def test_a_bad_idempotency_key_is_400_and_writes_nothing(world: World, key) -> None:
    client = client_for(world.player)
    before = Submission.objects.count()

    response = client.post(
        f"/api/v1/contests/{world.contest.slug}/submissions/",
        {"score": 1},
        format="json",
        headers={"Idempotency-Key": key},
    )

    _assert_4xx(response, 400)
    assert Submission.objects.count() == before
