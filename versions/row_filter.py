"""The data-row filter language shared by lists, exports, bulk update and bulk delete.

Django-style lookups over `id`, `global_key`, `row_data`, `created_at`, `updated_at` and
`metadata__<key>` (the frame's `meta`), with `__in`, `__lt`, `__gt`, `__contains`, `__isnull`
(plain equality without a suffix). Applied to a queryset of `FrameEntry` (a version's frames).
Only these lookups ever reach Django: a metadata key segment that is a Django lookup or
transform name (`regex`, `contained_by`, `has_key`, `contains`, …) is a 400 naming it, so every
other segment is read as a key, and the lookup is always spelled out. Nested keys are allowed:
`metadata__a__b` is `meta["a"]["b"]`. `__contains` is a case-insensitive substring (an escaped
LIKE), never a regexp. Unknown fields or lookups, and values of the wrong type → 400 naming them.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import JSONField, Q
from django.db.models.fields.json import KeyTransform

from dashboard.errors import Invalid
from dashboard.strict_json import json_parse

from .metadata_schema import MetadataSchema
from .models import DataRow

ROW_FIELDS = {
    "id": "data_row_id",
    "global_key": "data_row__global_key",
    "row_data": "data_row__row_data",
    "created_at": "data_row__created_at",
    "updated_at": "data_row__updated_at",
}
LOOKUPS = {"exact", "in", "lt", "gt", "contains", "isnull"}
QUERY_ONLY = {"cursor", "page_size", "projection", "format", "ids", "source"}
META = "revision__content__meta"
INT64 = 2**63
TRUE, FALSE = {"1", "true", "yes"}, {"0", "false", "no"}


def _reserved_names() -> set[str]:
    """Every name Django would read as a lookup or transform on a JSON value."""
    return {*JSONField.get_lookups(), *KeyTransform.get_lookups(), *LOOKUPS}


def _json_literal(value: str) -> Any:
    try:
        return json_parse(value)
    except ValueError:
        return value


def _is_scalar(value: Any) -> bool:
    """A string, boolean or number (what the lookups compare); numbers strictly between ±2**63
    (a JSON integer beyond 64 bits is read as a float: the bound holds for both)."""
    if isinstance(value, str | bool):
        return True
    return isinstance(value, int | float) and -INT64 < value < INT64


def _scalar(value: Any, *, raw_key: str) -> Any:
    if not _is_scalar(value):
        raise Invalid("Must be a string, a number or a boolean.", field=raw_key)
    return value


def _metadata_path(parts: list[str], raw_key: str) -> tuple[list[str], str]:
    keys, lookup = parts, "exact"
    if len(keys) > 1 and keys[-1] in LOOKUPS:
        keys, lookup = keys[:-1], keys[-1]
    if not keys or any(not key for key in keys):
        raise Invalid("Name a metadata key: metadata__<key>[__<key>…][__<lookup>].", field=raw_key)
    reserved = _reserved_names()
    for key in keys:
        if key in reserved:
            raise Invalid(
                f"{key!r} is a lookup name, not a metadata key: filter with metadata__<key> "
                "and optionally __in, __lt, __gt, __contains or __isnull (metadata keys named "
                "like a lookup cannot be filtered on).",
                field=raw_key,
            )
    return keys, lookup


def query_filter_q(query_params, *, schema: MetadataSchema | None = None) -> Q:
    """`row_filter_q` of a query string; a filter given twice is a 400 (not the last one kept)."""
    for key in query_params:
        if key not in QUERY_ONLY and len(query_params.getlist(key)) > 1:
            raise Invalid("Give each filter once (several values: __in=a,b).", field=key)
    return row_filter_q(query_params.dict(), from_query=True, schema=schema)


def row_filter_q(
    filters: dict[str, Any], *, from_query: bool = False, schema: MetadataSchema | None = None
) -> Q:
    """Build a Q from `{"metadata__split": "train", "global_key__in": [...]}`. From a query
    string, values are strings: `__in` splits on commas, metadata values are read as JSON
    literals when they parse (5, true) and also matched as strings. A field of the dataset's
    metadata `schema` compares by its type: the value converted to it (text too), so numbers
    compare as numbers and datetimes as instants; a value that is not of the type → 400."""
    q = Q()
    for raw_key, value in filters.items():
        if from_query and raw_key in QUERY_ONLY:
            continue
        parts = raw_key.split("__")
        if parts[0] == "metadata":
            keys, lookup = _metadata_path(parts[1:], raw_key)
            if schema and len(keys) == 1 and keys[0] in schema.fields:
                q &= _typed_condition(keys[0], lookup, value, schema, raw_key, from_query)
                continue
            q &= _meta_condition(keys, lookup, value, raw_key=raw_key, from_query=from_query)
            continue
        if parts[0] not in ROW_FIELDS:
            raise Invalid(
                f"Unknown filter field {parts[0]!r}: use id, global_key, row_data, created_at, "
                "updated_at or metadata__<key>.",
                field=raw_key,
            )
        if len(parts) > 2:
            raise Invalid(f"Unknown lookup in {raw_key!r}.", field=raw_key)
        lookup = parts[1] if len(parts) == 2 else "exact"
        if lookup not in LOOKUPS:
            raise Invalid(
                f"Unknown lookup {lookup!r}: use in, lt, gt, contains or isnull.", field=raw_key
            )
        q &= _row_condition(parts[0], lookup, value, raw_key=raw_key, from_query=from_query)
    return q


def _isnull(value: Any, *, raw_key: str, from_query: bool) -> bool:
    if from_query and isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    if not isinstance(value, bool):
        raise Invalid("Must be true or false.", field=raw_key)
    return value


def _listed(value: Any, *, raw_key: str, from_query: bool) -> list:
    if from_query and isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        raise Invalid("Must be a list.", field=raw_key)
    return value


def _row_condition(name: str, lookup: str, value: Any, *, raw_key: str, from_query: bool) -> Q:
    column = ROW_FIELDS[name]
    if lookup == "isnull":
        return Q(**{f"{column}__isnull": _isnull(value, raw_key=raw_key, from_query=from_query)})
    if lookup == "exact" and value is None and not from_query:
        return Q(**{f"{column}__isnull": True})
    field = DataRow._meta.get_field("id" if name == "id" else name)

    def checked(item: Any) -> Any:
        item = _scalar(item, raw_key=raw_key)
        try:  # a date that does not parse is the caller's mistake, not a database error
            return field.to_python(item)
        except (ValidationError, TypeError, ValueError):
            raise Invalid(f"Not a valid {name} value: {item!r}.", field=raw_key) from None

    if lookup == "in":
        values = [checked(v) for v in _listed(value, raw_key=raw_key, from_query=from_query)]
        return Q(**{f"{column}__in": values})
    if lookup == "contains":
        # Case-insensitive on both engines (SQLite's LIKE ignores ASCII case anyway).
        return Q(**{f"{column}__icontains": str(_scalar(value, raw_key=raw_key))})
    suffix = "" if lookup == "exact" else f"__{lookup}"
    return Q(**{f"{column}{suffix}": checked(value)})


def _typed_condition(
    key: str, lookup: str, value: Any, schema: MetadataSchema, raw_key: str, from_query: bool
) -> Q:
    """A condition on a schema field: the value (each of an `__in`) of the field's type."""
    column = f"{META}__{key}"
    if lookup == "isnull":
        return Q(**{f"{column}__isnull": _isnull(value, raw_key=raw_key, from_query=from_query)})
    if lookup == "contains":
        return Q(**{f"{column}__icontains": str(_scalar(value, raw_key=raw_key))})
    if lookup == "in":
        listed = _listed(value, raw_key=raw_key, from_query=from_query)
        values = [
            schema.filter_value(key, _scalar(v, raw_key=raw_key), raw_key=raw_key) for v in listed
        ]
        return Q(**{f"{column}__in": values})
    if value is None and not from_query:
        return Q(**{f"{column}__isnull": True}) | Q(**{f"{column}__exact": None})
    typed = schema.filter_value(key, _scalar(value, raw_key=raw_key), raw_key=raw_key)
    return Q(**{f"{column}__{lookup}": typed})


def _meta_condition(
    keys: list[str], lookup: str, value: Any, *, raw_key: str, from_query: bool
) -> Q:
    # No key is a lookup or transform name (`_metadata_path`), so Django reads each as a key,
    # and the lookup is always spelled out.
    column = "__".join([META, *keys])

    def where(name: str, rhs: Any) -> Q:
        return Q(**{f"{column}__{name}": rhs})

    if lookup == "isnull":
        return where("isnull", _isnull(value, raw_key=raw_key, from_query=from_query))
    if lookup == "in":
        listed = _listed(value, raw_key=raw_key, from_query=from_query)
        values = [_scalar(v, raw_key=raw_key) for v in listed]
        if from_query:
            values += [v for v in map(_json_literal, values) if _is_scalar(v) and v not in values]
        return where("in", values)
    if lookup == "contains":
        # A substring of a string value; JSON containment is not portable to SQLite.
        return where("icontains", str(_scalar(value, raw_key=raw_key)))
    if lookup == "exact" and not from_query and (value is None or isinstance(value, dict | list)):
        return where("exact", value)  # JSON null, objects and lists compare as JSON
    value = _scalar(value, raw_key=raw_key)
    if from_query and isinstance(value, str):
        literal = _json_literal(value)
        if literal is None and lookup == "exact":
            return where(lookup, value) | where(lookup, None)  # ?metadata__x=null
        if not _is_scalar(literal):
            literal = value
        if lookup != "exact" and isinstance(literal, int | float) and not isinstance(literal, bool):
            # Order numbers as numbers: engines sort every number before any string.
            return where(lookup, literal)
        if literal != value:
            return where(lookup, value) | where(lookup, literal)
    return where(lookup, value)


def filter_schema() -> dict[str, Any]:
    """The filter language as a JSON Schema (an object of lookups, none other): what
    `row_filter_q` reads from a JSON body, so a request valid by the schema is never refused."""
    bounds = {"exclusiveMinimum": -INT64, "exclusiveMaximum": INT64}
    scalar = {"type": ["string", "number", "boolean"], **bounds}
    when = {"type": "string", "format": "date-time"}
    reserved = "|".join(sorted(_reserved_names(), key=lambda n: (-len(n), n)))
    # A metadata key segment: no empty one (`____`), none named like a lookup or transform.
    segment = rf"(?!(?:{reserved})(?:__|$))(?:[^_]|_(?!_))+"
    meta = rf"^metadata__{segment}(?:__{segment})*"
    fields, dates = "id|global_key|row_data", "created_at|updated_at"

    def listed(item: dict) -> dict:
        return {"type": "array", "items": item}

    return {
        "type": "object",
        "description": (
            "Lookups over id, global_key, row_data, created_at, updated_at and "
            "metadata__<key>[__<key>…], with __in, __lt, __gt, __contains, __isnull "
            '(none: equality), e.g. {"metadata__split": "train", "global_key__in": ["a"]}.'
        ),
        "patternProperties": {
            rf"^({fields})(__exact)?$": {**scalar, "type": [*scalar["type"], "null"]},
            rf"^({dates})(__exact)?$": {"type": ["string", "null"], "format": "date-time"},
            rf"^({fields})__(lt|gt|contains)$": scalar,
            rf"^({dates})__(lt|gt)$": when,
            rf"^({dates})__contains$": scalar,
            rf"^({fields})__in$": listed(scalar),
            rf"^({dates})__in$": listed(when),
            rf"^({fields}|{dates})__isnull$": {"type": "boolean"},
            rf"{meta}(__exact)?$": bounds,  # any JSON value (objects and lists compare as JSON)
            rf"{meta}__(lt|gt|contains)$": scalar,
            rf"{meta}__in$": listed(scalar),
            rf"{meta}__isnull$": {"type": "boolean"},
        },
        "additionalProperties": False,
    }
