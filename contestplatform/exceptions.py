"""API exceptions shared by the apps, beside DRF's own."""

from rest_framework import exceptions, status


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class Conflict(exceptions.APIException):
    """The request is valid but the resource's current state forbids it."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class ServiceUnavailable(exceptions.APIException):
    """A backing service is down; the client may retry after ``wait`` s."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable; retry later."
    default_code = "service_unavailable"

    def __init__(
        self,
        detail: str | None = None,
        code: str | None = None,
        wait: float | None = 1,
    ) -> None:
        super().__init__(detail, code)
        self.wait = wait
