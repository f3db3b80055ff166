"""Cursor pagination for every large list: `{next, previous, results}`, `?page_size=` ≤ 1000."""

import base64
import binascii
from dataclasses import dataclass

from rest_framework import pagination
from rest_framework.utils.urls import replace_query_param

from dashboard.errors import Invalid


class CursorPagination(pagination.CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-id"  # ids are time-sortable, so newest first by default


@dataclass(frozen=True)
class Keyset:
    """Where a keyset page starts: after `key` (forward), or before it (`backward`)."""

    key: str = ""
    backward: bool = False

    @property
    def after(self) -> str:
        return "" if self.backward else self.key

    @property
    def before(self) -> str:
        return self.key if self.backward else ""


BACKWARD, FORWARD = "<", ">"  # keys start with a letter or digit, so a mark is unambiguous


def keyset_cursor(request) -> Keyset:
    """The position a `?cursor=` holds (the first page without one); a bad cursor → 400."""
    token = request.query_params.get("cursor")
    if not token:
        return Keyset()
    try:
        text = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Invalid("Invalid cursor.", field="cursor") from None
    if text[:1] in (BACKWARD, FORWARD):
        return Keyset(key=text[1:], backward=text[0] == BACKWARD)
    return Keyset(key=text)  # a cursor from before backward paging: forward


def keyset_page(request, items: list, *, key: str, cursor: Keyset, has_more: bool) -> dict:
    """`{next, previous, results}` for a list paged by a unique, ordered key. `items` are in
    key order; `has_more` says whether more lie beyond them in the direction of travel."""

    def link(mark: str, value) -> str:
        token = base64.urlsafe_b64encode(f"{mark}{value}".encode()).decode()
        return replace_query_param(request.build_absolute_uri(), "cursor", token)

    more_before = has_more if cursor.backward else bool(cursor.key)
    more_after = bool(cursor.key) if cursor.backward else has_more
    return {
        "next": link(FORWARD, items[-1][key]) if items and more_after else None,
        "previous": link(BACKWARD, items[0][key]) if items and more_before else None,
        "results": items,
    }


def page_size(request, *, default: int = 100, maximum: int = 1000) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise Invalid(f"Must be an integer from 1 to {maximum}.", field="page_size")
    return int(raw)


def cursor_response(request, queryset, serializer_class, *, ordering: str, view=None):
    """A cursor-paginated response of `queryset` in `ordering` (for APIViews)."""
    paginator = CursorPagination()
    paginator.ordering = ordering
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def page_schema(serializer_class, *, name: str):
    """The OpenAPI shape of one page `{next, previous, results: [...]}` of `serializer_class`,
    for APIViews that paginate by hand (generic list views get it from drf-spectacular)."""
    from drf_spectacular.utils import inline_serializer
    from rest_framework import serializers

    return inline_serializer(
        name=name,
        fields={
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )
