"""The data-row filter language shared by lists, bulk update and bulk delete.

Django-style lookups over `id`, `global_key`, `row_data`, `created_at`, `updated_at` and
`metadata__<key>` (the frame's `meta`), with `__in`, `__lt`, `__gt`, `__contains`, `__isnull`
(plain equality without a suffix). Applied to a queryset of `FrameEntry` (a version's frames).
Unknown fields or lookups → 400 naming them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from dashboard.errors import Invalid
from dashboard.jsontext import json_parse

ROW_FIELDS = {
    "id": "data_row_id",
    "global_key": "data_row__global_key",
    "row_data": "data_row__row_data",
    "created_at": "data_row__created_at",
    "updated_at": "data_row__updated_at",
}
LOOKUPS = {"exact", "in", "lt", "gt", "contains", "isnull"}
QUERY_ONLY = {"cursor", "page_size", "projection", "format", "ids", "source"}


def _json_literal(value: str) -> Any:
    try:
        return json_parse(value)
    except ValueError:
        return value


def row_filter_q(filters: dict[str, Any], *, from_query: bool = False) -> Q:
    """Build a Q from `{"metadata__split": "train", "global_key__in": [...]}`. From a query
    string, values are strings: `__in` splits on commas, metadata values are read as JSON
    literals when they parse (5, true) and also matched as strings."""
    q = Q()
    for raw_key, value in filters.items():
        if from_query and raw_key in QUERY_ONLY:
            continue
        parts = raw_key.split("__")
        if parts[0] == "metadata":
            if len(parts) < 2 or not parts[1]:
                raise Invalid("Name a metadata key: metadata__<key>.", field=raw_key)
            keys, lookup = parts[1:], "exact"
            if len(keys) > 1 and keys[-1] in LOOKUPS:
                keys, lookup = keys[:-1], keys[-1]
            column = "revision__content__meta__" + "__".join(keys)
        elif parts[0] in ROW_FIELDS:
            if len(parts) > 2:
                raise Invalid(f"Unknown lookup in {raw_key!r}.", field=raw_key)
            lookup = parts[1] if len(parts) == 2 else "exact"
            column = ROW_FIELDS[parts[0]]
        else:
            raise Invalid(
                f"Unknown filter field {parts[0]!r}: use id, global_key, row_data, created_at, "
                "updated_at or metadata__<key>.",
                field=raw_key,
            )
        if lookup not in LOOKUPS:
            raise Invalid(
                f"Unknown lookup {lookup!r}: use in, lt, gt, contains or isnull.", field=raw_key
            )
        q &= _condition(column, lookup, value, raw_key=raw_key, from_query=from_query)
    return q


def _condition(column: str, lookup: str, value: Any, *, raw_key: str, from_query: bool) -> Q:
    is_meta = column.startswith("revision__content__meta__")
    if lookup == "isnull":
        if from_query:
            value = str(value).lower() in {"1", "true", "yes"}
        if not isinstance(value, bool):
            raise Invalid("Must be true or false.", field=raw_key)
        return Q(**{f"{column}__isnull": value})
    if lookup == "in":
        if from_query and isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list):
            raise Invalid("Must be a list.", field=raw_key)
        if is_meta and from_query:
            value = value + [_json_literal(v) for v in value]
        return Q(**{f"{column}__in": value})
    if lookup == "contains":
        if is_meta:
            # A substring of a string value; JSON containment is not portable to SQLite.
            return Q(**{f"{column}__icontains": str(value)})
        return Q(**{f"{column}__contains": value})
    suffix = "" if lookup == "exact" else f"__{lookup}"
    if is_meta and from_query and isinstance(value, str):
        literal = _json_literal(value)
        if lookup != "exact" and isinstance(literal, int | float) and not isinstance(literal, bool):
            # Order numbers as numbers: engines sort every number before any string.
            return Q(**{f"{column}{suffix}": literal})
        if literal != value:
            return Q(**{f"{column}{suffix}": value}) | Q(**{f"{column}{suffix}": literal})
    return Q(**{f"{column}{suffix}": value})
