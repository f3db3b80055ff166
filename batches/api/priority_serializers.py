"""API shapes and input serializers of row priority overrides: `POST priorities/` with
`[{data_row | global_key, priority}]` (up to a million items) and its result."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dashboard.api.serializers import InputSerializer
from dashboard.errors import INT32_MAX, INT32_MIN, Invalid, validate_int32

from ..services import MAX_PRIORITY_ROWS
from .batch_serializers import FailedRowSerializer
from .fields import RowItemsField


class PrioritiesResultSerializer(serializers.Serializer):
    updated = serializers.IntegerField()
    failed = FailedRowSerializer(many=True)


class PriorityItemSerializer(InputSerializer):
    """One row override (the schema of an item; `PriorityItemsField` reads them)."""

    one_of = ("data_row", "global_key")

    data_row = serializers.CharField(required=False, allow_null=True, trim_whitespace=False)
    global_key = serializers.CharField(required=False, allow_null=True, trim_whitespace=False)
    priority = serializers.IntegerField(
        allow_null=True, min_value=INT32_MIN, max_value=INT32_MAX, help_text="null removes it"
    )


@extend_schema_field(PriorityItemSerializer(many=True, min_length=1, max_length=MAX_PRIORITY_ROWS))
class PriorityItemsField(RowItemsField):
    """`[{data_row | global_key, priority}]`, each checked (one of the two keys, a non-empty
    row, an int32 or null)."""

    value_key = "priority"
    limit = MAX_PRIORITY_ROWS

    def read_item(self, i: int, item: dict, *, key: str, value) -> dict:
        if "priority" not in item:
            raise serializers.ValidationError(
                f"Item {i} needs a priority (an integer, or null to remove)."
            )
        if not isinstance(value, str) or not value:
            raise serializers.ValidationError(f"Item {i}: the row must be a non-empty string.")
        try:
            priority = validate_int32(item["priority"], field="priority")
        except Invalid as exc:
            raise serializers.ValidationError(f"Item {i}: {exc.message}") from None
        return {key: value, "priority": priority}


class PrioritiesInputSerializer(InputSerializer):
    items = PriorityItemsField()
