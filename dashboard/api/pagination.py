"""Cursor pagination for every large list: `{next, previous, results}`, `?page_size=` ≤ 1000."""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-id"  # ids are time-sortable, so newest first by default


def keyset_page(request, items: list, *, key: str, has_more: bool) -> dict:
    """`{next, previous, results}` for streams paged by a unique, ordered key (`?cursor=` holds
    the last key seen, opaque to clients). Forward only: `previous` is always null."""
    import base64

    from rest_framework.utils.urls import replace_query_param

    next_url = None
    if has_more and items:
        token = base64.urlsafe_b64encode(str(items[-1][key]).encode()).decode()
        next_url = replace_query_param(request.build_absolute_uri(), "cursor", token)
    return {"next": next_url, "previous": None, "results": items}


def keyset_after(request) -> str:
    """The key a `?cursor=` points after ('' for the first page); a bad cursor → 400."""
    import base64
    import binascii

    from dashboard.errors import Invalid

    token = request.query_params.get("cursor")
    if not token:
        return ""
    try:
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Invalid("Invalid cursor.", field="cursor") from None


def page_size(request, *, default: int = 100, maximum: int = 1000) -> int:
    from dashboard.errors import Invalid

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
