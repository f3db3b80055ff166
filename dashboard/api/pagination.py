"""Cursor pagination for every large list: `{next, previous, results}`, `?page_size=` ≤ 1000."""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-id"  # ids are time-sortable, so newest first by default
