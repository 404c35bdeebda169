"""Pagination with clamped page sizes for every list of the API."""

from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    # A client asking for more gets this many, not an error and not a
    # million rows.
    max_page_size = 200

    def get_page_size(self, request: Request) -> int | None:
        # DRF ignores a page size that is no positive integer and answers
        # the default page; the schema says integer, so say so.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isdecimal() and int(raw) > 0):
            raise ValidationError(
                {"page_size": ["A positive integer is required."]}, code="invalid"
            )
        return super().get_page_size(request)
