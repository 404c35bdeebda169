"""Pagination with clamped page sizes for every list of the API."""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    # A client asking for more gets this many, not an error and not a
    # million rows.
    max_page_size = 200
