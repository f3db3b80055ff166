"""Cursor pagination for every large list: `{next, previous, results}`, `?page_size=` ≤ 1000.

Every list validates its paging parameters alike (`page_size` and `keyset_cursor` here): a
`page_size` that is not an integer from 1 to 1000 in ASCII digits is a 400 naming it, and a
`cursor` that is not a token from a page's link names no page: a 404 naming it (as DRF answers
an invalid cursor) — never a silent default, cap or first page."""

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from django.core.exceptions import FieldDoesNotExist, ValidationError
from rest_framework import pagination
from rest_framework.utils.urls import replace_query_param

from dashboard.errors import Invalid, NotFound

INVALID_CURSOR = "Invalid cursor: it names no page; follow a page's next or previous link."


def invalid_cursor() -> NotFound:
    return NotFound(INVALID_CURSOR, field="cursor")


def _refuse_control_characters(text: str) -> None:
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise invalid_cursor()


class CursorPagination(pagination.CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-id"  # ids are time-sortable, so newest first by default

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model  # decode_cursor checks the position against the field
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        return page_size(request, default=type(self).page_size, maximum=self.max_page_size)

    def decode_cursor(self, request):
        """DRF's cursor (`o`ffset, `r`everse, `p`osition), strictly: DRF's own decoding reads
        junk as the first page and hands a tampered position to the database."""
        token = request.query_params.get(self.cursor_query_param)
        if not token:
            return None
        try:
            text = base64.b64decode(token.encode("ascii"), validate=True).decode("ascii")
            tokens = parse_qs(text, keep_blank_values=True, strict_parsing=True)
        except (ValueError, UnicodeError, binascii.Error):
            raise invalid_cursor() from None
        if set(tokens) - {"o", "r", "p"} or any(len(v) != 1 for v in tokens.values()):
            raise invalid_cursor()
        offset, reverse = tokens.get("o", ["0"])[0], tokens.get("r", ["0"])[0]
        if not _ascii_int(offset) or int(offset) > self.offset_cutoff or reverse not in "01":
            raise invalid_cursor()
        position = tokens.get("p", [None])[0]
        if position is not None:
            self._check_position(position)
        return pagination.Cursor(offset=int(offset), reverse=reverse == "1", position=position)

    def _check_position(self, position: str) -> None:
        """The position must be a value of the ordering field (else the query fails)."""
        _refuse_control_characters(position)
        try:
            field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
        except (AttributeError, FieldDoesNotExist):
            return
        try:
            field.run_validators(field.to_python(position))
        except (ValidationError, TypeError, ValueError):
            raise invalid_cursor() from None


def _ascii_int(raw: str) -> bool:
    return raw.isascii() and raw.isdigit()


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
# What a keyset key (a data-row id) looks like: anything else in a cursor was not ours.
KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")


def keyset_cursor(request) -> Keyset:
    """The position a `?cursor=` holds (the first page without one); a bad cursor → 404."""
    token = request.query_params.get("cursor")
    if not token:
        return Keyset()
    try:
        text = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise invalid_cursor() from None
    backward = text[:1] == BACKWARD
    if text[:1] in (BACKWARD, FORWARD):
        text = text[1:]  # else a cursor from before backward paging: forward
    if not KEY_RE.fullmatch(text):  # NUL, say, which PostgreSQL cannot compare
        raise invalid_cursor()
    return Keyset(key=text, backward=backward)


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
    """`?page_size=`: ASCII digits only (`str.isdigit` accepts '²', which `int` refuses)."""
    raw = request.query_params.get("page_size")
    if raw is None:
        return default
    if not _ascii_int(raw) or not 1 <= int(raw) <= maximum:
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
