"""A dataset's typed metadata fields: what a schema may hold (`schema_validate`, for PUT, the
admin and the page) and its compiled form (`MetadataSchema`) that every write of the dataset's
rows applies — given values converted to the field's type (CSV cells from text), missing fields
given their default, a missing required field or a wrong type an error naming the field — and
that the filters use to compare a field's values by its type.

Keys not in the schema stay free-form. A CSV `metadata.<key>` cell of a free-form key is read as
a JSON value when it parses as one (`28`, `true`, `"28"`, `{"a": 1}`) and as text otherwise.
Datetimes are stored as UTC text of one fixed width (`2024-05-01T12:00:00.000000Z`), so that
comparing the text compares the instants.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from dashboard.bulk.fields import TextCell, type_name
from dashboard.errors import Invalid
from dashboard.strict_json import json_parse

TYPES = ("string", "number", "integer", "boolean", "datetime", "enum")
ATTRIBUTES = ("name", "type", "default", "required", "options")
MAX_FIELDS = 200
MAX_NAME_LENGTH = 100
MAX_OPTIONS = 1000
MAX_OPTION_LENGTH = 255
INT64 = 2**63
TRUE = {"true", "1", "yes", "y", "t", "on"}
FALSE = {"false", "0", "no", "n", "f", "off"}
_MISSING = object()


def _string(value: Any, options, text: bool) -> str:
    if isinstance(value, str):
        return str(value)
    raise ValueError(f"must be a string, not {type_name(value)}.")


def _integer(value: Any, options, text: bool) -> int:
    if isinstance(value, str) and text:
        try:
            value = int(value.strip())
        except ValueError:
            raise ValueError(f"must be an integer, not {str(value)!r}.") from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be an integer, not {type_name(value)}.")
    if not -INT64 <= value < INT64:
        raise ValueError("must be an integer within 64 bits.")
    return value


def _number(value: Any, options, text: bool) -> int | float:
    if isinstance(value, str) and text:
        raw = value.strip()
        try:
            value = int(raw)
        except ValueError:
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"must be a number, not {str(raw)!r}.") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, not {type_name(value)}.")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number.")
    if isinstance(value, int) and not -INT64 <= value < INT64:
        value = float(value)
    return value


def _boolean(value: Any, options, text: bool) -> bool:
    if isinstance(value, str) and text:
        word = value.strip().lower()
        if word in TRUE:
            return True
        if word in FALSE:
            return False
        raise ValueError(f"must be true/false/1/0/yes/no, not {str(value)!r}.")
    if isinstance(value, bool):
        return value
    raise ValueError(f"must be true or false, not {type_name(value)}.")


def _datetime(value: Any, options, text: bool) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO 8601 date-time string, not {type_name(value)}.")
    raw = value.strip()
    try:
        moment = parse_datetime(raw)
        if moment is None:
            day = parse_date(raw)
            moment = dt.datetime(day.year, day.month, day.day) if day else None
    except ValueError:
        moment = None
    if moment is None:
        raise ValueError(f"must be an ISO 8601 date-time, not {raw!r}.")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        moment = moment.astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 lies before the first UTC instant
        raise ValueError(
            f"must be a date-time between the years 1 and 9999, not {raw!r}."
        ) from None
    return f"{moment.year:04d}" + moment.strftime("-%m-%dT%H:%M:%S.%fZ")


def _enum(value: Any, options, text: bool) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be one of the options, not {type_name(value)}.")
    if value not in options:
        shown = ", ".join(map(repr, list(options)[:10])) + (", …" if len(options) > 10 else "")
        raise ValueError(f"{str(value)!r} is not one of the options ({shown}).")
    return str(value)


CONVERT = {
    "string": _string,
    "number": _number,
    "integer": _integer,
    "boolean": _boolean,
    "datetime": _datetime,
    "enum": _enum,
}


def free_form_cell(cell: str) -> Any:
    """A CSV cell of a key outside the schema: its JSON value when it parses, else the text."""
    try:
        return json_parse(cell)
    except ValueError:
        return str(cell)


def text_needs_quotes(text: str) -> bool:
    """Whether a free-form string must be written JSON-quoted in a CSV cell to read back as
    the same string (it would parse as another JSON value, or be an empty cell)."""
    if not text:
        return True
    try:
        json_parse(text)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- the schema itself


def _valid_name(name: Any, position: int) -> str:
    if not isinstance(name, str) or not name.strip():
        raise Invalid(f"Field {position}: name must be a non-empty string.", field="fields")
    if len(name) > MAX_NAME_LENGTH:
        raise Invalid(
            f"Field {name[:40]!r}…: name longer than {MAX_NAME_LENGTH} characters.", field="fields"
        )
    if "$" in name or "." in name or name != name.strip():
        raise Invalid(
            f"Field {name!r}: a name may not contain '$' or '.', nor start or end with spaces.",
            field="fields",
        )
    return name


def schema_validate(fields: Any) -> list[dict]:
    """The schema as stored: `[{name, type, required, default?, options?}]`, or `Invalid`
    (field `fields`) naming the metadata field at fault."""
    if not isinstance(fields, list):
        raise Invalid(
            "Must be a list of {name, type, default?, required?, options?}.", field="fields"
        )
    if len(fields) > MAX_FIELDS:
        raise Invalid(f"At most {MAX_FIELDS} fields; got {len(fields)}.", field="fields")
    clean: list[dict] = []
    seen: set[str] = set()
    for position, spec in enumerate(fields):
        if not isinstance(spec, dict):
            raise Invalid(f"Field {position}: must be an object {{name, type, …}}.", field="fields")
        name = _valid_name(spec.get("name"), position)
        unknown = sorted(set(spec) - set(ATTRIBUTES))
        if unknown:
            raise Invalid(
                f"Field {name!r}: unknown attribute(s) {', '.join(unknown)} (use "
                f"{', '.join(ATTRIBUTES)}).",
                field="fields",
            )
        if name in seen:
            raise Invalid(f"Field {name!r} appears twice.", field="fields")
        seen.add(name)
        kind = spec.get("type")
        if kind not in TYPES:
            raise Invalid(
                f"Field {name!r}: unknown type {kind!r}; use {', '.join(TYPES)}.", field="fields"
            )
        required = spec.get("required", False)
        if not isinstance(required, bool):
            raise Invalid(f"Field {name!r}: required must be true or false.", field="fields")
        item: dict[str, Any] = {"name": name, "type": kind, "required": required}
        options = spec.get("options")
        if kind == "enum":
            if not isinstance(options, list) or not options:
                raise Invalid(f"Field {name!r}: an enum needs a list of options.", field="fields")
            if len(options) > MAX_OPTIONS:
                raise Invalid(f"Field {name!r}: at most {MAX_OPTIONS} options.", field="fields")
            if not all(isinstance(o, str) and o and len(o) <= MAX_OPTION_LENGTH for o in options):
                raise Invalid(
                    f"Field {name!r}: options must be non-empty strings of at most "
                    f"{MAX_OPTION_LENGTH} characters.",
                    field="fields",
                )
            if len(set(options)) != len(options):
                raise Invalid(f"Field {name!r}: an option appears twice.", field="fields")
            item["options"] = list(options)
        elif options is not None:
            raise Invalid(f"Field {name!r}: only an enum has options.", field="fields")
        default = spec.get("default")
        if default is not None:
            try:
                item["default"] = CONVERT[kind](default, frozenset(options or ()), False)
            except ValueError as exc:
                raise Invalid(f"Field {name!r}: the default {exc}", field="fields") from None
        clean.append(item)
    return clean


@dataclass(frozen=True, slots=True)
class SchemaField:
    name: str
    type: str
    required: bool
    default: Any
    options: frozenset

    def convert(self, value: Any, *, prefix: str) -> Any:
        try:
            return CONVERT[self.type](value, self.options, type(value) is TextCell)
        except ValueError as exc:
            raise Invalid(str(exc), field=f"{prefix}.{self.name}") from None


class MetadataSchema:
    """A stored schema compiled once (per import, per request) and applied to each record."""

    def __init__(self, fields: list[dict] | None = None):
        self.fields: dict[str, SchemaField] = {
            spec["name"]: SchemaField(
                spec["name"],
                spec["type"],
                bool(spec.get("required")),
                spec.get("default", _MISSING),
                frozenset(spec.get("options") or ()),
            )
            for spec in fields or ()
        }
        self._completing = [
            f for f in self.fields.values() if f.required or f.default is not _MISSING
        ]

    def __bool__(self) -> bool:
        return bool(self.fields)

    def clean(self, given: dict, *, prefix: str) -> dict:
        """Given metadata with its schema fields converted and free-form CSV cells read; a
        null (a key to remove) stays null."""
        fields = self.fields
        out = None
        for key, value in given.items():
            spec = fields.get(key)
            if value is None or (spec is None and type(value) is not TextCell):
                continue
            new = spec.convert(value, prefix=prefix) if spec else free_form_cell(value)
            if new is not value:
                if out is None:
                    out = dict(given)
                out[key] = new
        return given if out is None else out

    def complete(self, meta: dict, *, prefix: str) -> dict:
        """The metadata with every missing field's default; a missing required field (absent
        or null) → `Invalid` naming it."""
        out = None
        for spec in self._completing:
            if meta.get(spec.name) is not None:
                continue
            if spec.default is _MISSING:
                raise Invalid("this field is required.", field=f"{prefix}.{spec.name}")
            if out is None:
                out = dict(meta)
            out[spec.name] = spec.default
        return meta if out is None else out

    def set_values(self, given: dict, *, field: str) -> dict:
        """The metadata of a bulk `set`, converted; removing (null) a required field that has
        no default → `Invalid`."""
        try:
            clean = self.clean(given, prefix="metadata")
        except Invalid as exc:
            raise Invalid(f"{exc.field}: {exc.message}", field=field) from None
        for key, value in given.items():
            spec = self.fields.get(key)
            if value is None and spec and spec.required and spec.default is _MISSING:
                raise Invalid(f"metadata.{key}: a required field cannot be removed.", field=field)
        return clean

    def filter_value(self, key: str, value: Any, *, raw_key: str) -> Any:
        """A filter's value for a schema field, of the field's type (text converted): so that
        numbers compare as numbers and datetimes as instants. Free-form keys: as given."""
        spec = self.fields.get(key)
        if spec is None or value is None:
            return value
        if isinstance(value, str) and not isinstance(value, TextCell):
            value = TextCell(value)
        try:
            return CONVERT[spec.type](value, frozenset(), type(value) is TextCell)
        except ValueError as exc:
            if spec.type == "enum":  # any text may be compared with an enum's values
                return str(value)
            raise Invalid(f"{key} {exc}", field=raw_key) from None


def metadata_merge(base: dict, given: dict) -> dict:
    """`base` with `given` merged key by key: a key given as null is removed (upserts, `set`)."""
    merged = {**base, **given}
    return {k: v for k, v in merged.items() if v is not None} if None in given.values() else merged


def without_nulls(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if v is not None} if None in meta.values() else meta


def dataset_metadata_schema(dataset_id: str) -> MetadataSchema:
    """The compiled schema of a dataset (one query)."""
    from .models import Dataset

    fields = Dataset.objects.filter(pk=dataset_id).values_list("metadata_schema", flat=True).first()
    return MetadataSchema(fields or [])


# ---------------------------------------------------------------- inference (first import)

_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


def _kind_of(value: Any) -> str | None:
    """The schema type one value suggests (a CSV cell by its text), or None (free-form)."""
    if type(value) is TextCell:
        text = value.strip()
        for kind in ("integer", "number"):
            try:
                CONVERT[kind](text, frozenset(), True)
                return kind
            except ValueError:
                pass
        if text.lower() in ("true", "false"):
            return "boolean"
        value = text
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        if _ISO_DATE.match(value.strip()):
            try:
                _datetime(value, frozenset(), True)
                return "datetime"
            except ValueError:
                pass
        return "string"
    return None


def schema_infer(metadata: Iterable[dict]) -> list[dict]:
    """Fields for the keys whose values all suggest one type (integers and numbers together:
    number), in the order first met; keys with nested or mixed values stay free-form. Nothing
    is required and nothing has a default."""
    kinds: dict[str, str | None] = {}
    for meta in metadata:
        for key, value in meta.items():
            if value is None or (type(value) is TextCell and not value.strip()):
                continue
            kind = _kind_of(value)
            seen = kinds.get(key, kind)
            if seen != kind:
                kind = "number" if {seen, kind} == {"integer", "number"} else None
            kinds[key] = kind
    fields = [
        {"name": key, "type": kind, "required": False}
        for key, kind in kinds.items()
        if kind is not None
        and "$" not in key
        and "." not in key
        and 0 < len(key) <= MAX_NAME_LENGTH
    ]
    return fields[:MAX_FIELDS]
