"""Schemathesis against the OpenAPI schema, in process, as a user and an admin.

Every operation gets generated requests, valid and invalid, sent through
the WSGI application; each answer must be no 5xx (the documented 503s
aside, which a healthy test setup never produces), have a documented
status, content type and headers, and match its response schema. Valid
requests use the world's real contest and users, so they go past the
404 of a random slug. CI runs a bounded number of examples per operation;
``-m slow`` runs many more.
"""

from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import token_for
from tests.security.world import World, make_world

pytestmark = pytest.mark.django_db


class _InTestTransaction:
    """Django's WSGI handler, kept from closing the test's connection.

    Like Django's own test client: ``request_started`` and
    ``request_finished`` close the database connection, which would end
    the transaction the test runs in (with the pool, hand it back
    mid-transaction), so they are unhooked around each request.
    """

    def __init__(self) -> None:
        self._handler = WSGIHandler()

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = self._handler(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                response.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


schema = schemathesis.openapi.from_dict(
    SchemaGenerator().get_schema(request=None, public=True)
)
schema.app = _InTestTransaction()

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
COMMON = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
}
QUICK = settings(max_examples=8, **COMMON)
LONG = settings(max_examples=150, **COMMON)


@pytest.fixture
def world(settings) -> World:
    # Streams are served elsewhere; configured, the API redirects to them.
    settings.STREAM_BASE_URL = "http://127.0.0.1:9"
    return make_world()


def _aim(case: Any, world: World) -> None:
    """Point a valid request at rows that exist; leave invalid ones alone."""
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return
    path = case.path_parameters or {}
    if "slug" in path:
        path["slug"] = world.contest.slug
    for name in ("user_id", "id"):
        if name in path:
            path[name] = world.player.pk


def _run(case: Any, world: World, who: str) -> None:
    _aim(case, world)
    token = token_for(world.admin if who == "admin" else world.player)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


@pytest.mark.parametrize("who", ["user", "admin"])
@schema.parametrize()
@QUICK
def test_the_api_keeps_its_schema(case, world: World, who: str) -> None:
    _run(case, world, who)


@pytest.mark.slow
@pytest.mark.parametrize("who", ["user", "admin"])
@schema.parametrize()
@LONG
def test_the_api_keeps_its_schema_in_a_long_run(case, world: World, who) -> None:
    _run(case, world, who)
