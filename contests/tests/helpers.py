"""URLs and error readers shared by the contests tests."""

from typing import Any

LIST_URL = "/api/v1/contests/"


def detail_url(slug: str) -> str:
    return f"{LIST_URL}{slug}/"


def action_url(slug: str, action: str) -> str:
    return f"{LIST_URL}{slug}/{action}/"


def field_errors(response: Any) -> dict[str | None, str]:
    """Map each field of a 400 to its error code, checking the error shape."""
    body = response.json()
    assert response.status_code == 400, body
    assert body["type"] == "validation_error"
    return {error["attr"]: error["code"] for error in body["errors"]}


def error_code(response: Any, status: int) -> str:
    """Return the code of a response's single error, checking the shape."""
    body = response.json()
    assert response.status_code == status, body
    assert body["type"] == "client_error"
    [error] = body["errors"]
    assert error["detail"]
    return str(error["code"])
