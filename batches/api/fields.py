"""The strict JSON fields every input serializer of the batches API is built from: strings,
integers, booleans and lists that are what they say (no coercion), and the row-item reader."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dashboard.errors import INT32_MAX, INT32_MIN, Invalid, json_integer, validate_int32

from ..models import NAME_MAX_LENGTH
from ..row_lists import check_rows

# Errors keep the API's shape `{field: [message]}`: nested values (consensus, row lists,
# priority and gold items) report one message naming the part that is wrong.


def invalid(exc: Invalid) -> serializers.ValidationError:
    """A domain `Invalid` as the field's validation error (its message)."""
    return serializers.ValidationError(exc.message)


def with_schema(field_class: type, spec: dict) -> type:
    """A subclass of `field_class` that the schema describes as `spec`."""
    return extend_schema_field(spec)(type(field_class.__name__, (field_class,), {}))


class StrictCharField(serializers.CharField):
    """A JSON string (a number is not silently turned into one)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def name_field(*, max_length: int = NAME_MAX_LENGTH, **kwargs) -> StrictCharField:
    """A name: trimmed, not blank, at most `max_length` characters."""
    return StrictCharField(
        max_length=max_length,
        error_messages={
            "blank": "This field is required.",
            "max_length": f"At most {max_length} characters.",
        },
        **kwargs,
    )


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (not a string, a float or a boolean)."""

    def to_internal_value(self, data):
        if json_integer(data) is None:
            self.fail("invalid")
        return super().to_internal_value(json_integer(data))


class Int32Field(serializers.IntegerField):
    """A JSON integer within 32 bits, as the database stores priorities."""

    def __init__(self, **kwargs):
        super().__init__(min_value=INT32_MIN, max_value=INT32_MAX, **kwargs)

    def to_internal_value(self, data):
        try:
            return validate_int32(data, field=self.field_name, allow_none=False)
        except Invalid as exc:
            raise invalid(exc) from None


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false (not "yes", 1 or "on")."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            raise serializers.ValidationError("Must be true or false.")
        return data


class StringListField(serializers.Field):
    """A list of non-empty strings, at least one and at most `limit`; with `target`, each
    value at most as long as the data row field it names (global_keys or data_rows)."""

    def __init__(
        self,
        *,
        limit: int,
        target: str | None = None,
        unique: bool = False,
        message: str = "",
        **kwargs,
    ):
        self.limit, self.target, self.unique = limit, target, unique
        self.message = message or "Must be a list of non-empty strings."
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, list) or not all(isinstance(v, str) and v for v in data):
            raise serializers.ValidationError(self.message)
        if not data:
            raise serializers.ValidationError(
                "Give at least one row." if self.target else self.message
            )
        if len(data) > self.limit:
            raise serializers.ValidationError(
                f"At most {self.limit} {'rows' if self.target else 'items'} are accepted; "
                f"got {len(data)}."
            )
        if self.unique and len(set(data)) != len(data):
            raise serializers.ValidationError("A batch may be listed only once.")
        if self.target:
            try:
                check_rows(data, target=self.target, limit=self.limit)
            except Invalid as exc:
                raise invalid(exc) from None
        return data


class RowItemsField(serializers.Field):
    """A list of `{data_row | global_key, <value>}` items (priority overrides, gold rows), at
    most `limit`, each read by `read_item(i, item)`. One loop, not a serializer per item: a
    million items stay fast."""

    value_key: str  # the item's other key
    limit: int
    allow_empty: bool = False

    def read_item(self, i: int, item: dict, *, key: str, value) -> dict:
        raise NotImplementedError

    def to_internal_value(self, items):
        if not isinstance(items, list) or (not items and not self.allow_empty):
            shape = f"list of {{data_row | global_key, {self.value_key}}}"
            raise serializers.ValidationError(
                f"Must be a {shape}." if self.allow_empty else f"Must be a non-empty {shape}."
            )
        if len(items) > self.limit:
            raise serializers.ValidationError(
                f"At most {self.limit} rows are accepted; got {len(items)}."
            )
        return [self.read_item(i, item, **self.row_of(i, item)) for i, item in enumerate(items)]

    def row_of(self, i: int, item) -> dict:
        """`{key, value}`: which of `data_row` / `global_key` the item names, and its row."""
        if not isinstance(item, dict):
            raise serializers.ValidationError(f"Item {i} must be an object.")
        unknown = set(item) - {"data_row", "global_key", self.value_key}
        if unknown:
            raise serializers.ValidationError(
                f"Item {i} has unknown keys: {', '.join(sorted(unknown))}."
            )
        has_id, has_key = item.get("data_row") is not None, item.get("global_key") is not None
        if has_id == has_key:
            raise serializers.ValidationError(
                f"Item {i} needs exactly one of data_row or global_key."
            )
        key = "data_row" if has_id else "global_key"
        return {"key": key, "value": item[key]}
