"""The platform: one error shape everywhere, health and readiness."""

import pytest
from django.test import Client, override_settings
from django.urls import path
from rest_framework.test import APIClient
from rest_framework.views import APIView

from contestplatform.testing import RedisProcess
from contestplatform.urls import urlpatterns as real_urlpatterns

pytestmark = pytest.mark.django_db


def _assert_shape(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"type", "errors"}
    assert body["errors"][0]["code"] == code
    assert set(body["errors"][0]) == {"code", "detail", "attr"}


class _Boom(APIView):
    permission_classes = []
    authentication_classes = []

    def get(self, request):
        raise RuntimeError("kaboom")


def _boom_view(request):
    raise RuntimeError("kaboom outside DRF")


urlpatterns = [
    path("api/v1/boom/", _Boom.as_view()),
    path("api/v1/plain-boom/", _boom_view),
    *real_urlpatterns,
]
handler404 = "contestplatform.errors.page_not_found"
handler500 = "contestplatform.errors.server_error"


def test_an_unknown_api_path_is_a_404_in_the_shape(api: APIClient) -> None:
    _assert_shape(api.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_a_missing_trailing_slash_is_a_404_not_a_redirect(api: APIClient) -> None:
    _assert_shape(api.post("/api/v1/auth/register", {}), 404, "not_found")


def test_a_wrong_method_is_a_405_in_the_shape(api: APIClient) -> None:
    _assert_shape(api.get("/api/v1/auth/register/"), 405, "method_not_allowed")


def test_a_wrong_content_type_is_a_415_in_the_shape(api: APIClient) -> None:
    response = api.post(
        "/api/v1/auth/register/",
        "email=a",
        content_type="application/x-www-form-urlencoded",
    )

    _assert_shape(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"email": NaN}',
        b'{"email": Infinity}',
        b'{"email": -Infinity}',
        b"{not json",
        b"\xff\xfe",
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_malformed_json_is_a_400(api: APIClient, raw: bytes, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000_000

    response = api.post("/api/v1/auth/register/", raw, content_type="application/json")

    _assert_shape(response, 400, "parse_error")


def test_an_unacceptable_accept_header_is_a_406(api: APIClient) -> None:
    response = api.get("/api/v1/auth/me/", HTTP_ACCEPT="text/html")

    assert response.status_code == 406


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_crash_in_a_view_is_a_500_in_the_shape() -> None:
    client = APIClient(raise_request_exception=False)

    _assert_shape(client.get("/api/v1/boom/"), 500, "error")


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_crash_outside_drf_is_a_500_in_the_shape() -> None:
    client = Client(raise_request_exception=False)

    _assert_shape(client.get("/api/v1/plain-boom/"), 500, "error")


def test_non_api_paths_keep_django_pages() -> None:
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_healthz_answers_without_services() -> None:
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_when_postgres_and_redis_answer() -> None:
    response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"postgres": "ok", "redis": "ok"}


def test_readyz_names_redis_when_it_is_down(settings) -> None:
    with RedisProcess() as redis_server:
        caches = {**settings.CACHES}
        caches["default"] = {**caches["default"], "LOCATION": redis_server.url}
        settings.CACHES = caches
        assert Client().get("/readyz").status_code == 200

        redis_server.stop()
        response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"postgres": "ok", "redis": "unavailable"},
    }
    assert response["Retry-After"]


def test_the_schema_and_docs_are_served(api: APIClient) -> None:
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = Client().get("/api/v1/docs/")

    assert schema.status_code == 200
    assert "/api/v1/auth/token/" in schema.json()["paths"]
    assert docs.status_code == 200


def test_the_request_log_has_no_token(user_api: APIClient, caplog) -> None:
    caplog.set_level("INFO", logger="contestplatform.request")

    user_api.get("/api/v1/auth/me/?token=secret-value")

    lines = [r for r in caplog.records if r.name == "contestplatform.request"]
    assert len(lines) == 1
    record = lines[0]
    assert record.status == 200
    assert record.user_id is not None
    assert "secret-value" not in record.getMessage()
    assert "Bearer" not in str(record.__dict__)
