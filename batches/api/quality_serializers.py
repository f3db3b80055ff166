"""API shapes and input serializers of the quality endpoints: agreement, gold rows and labeler
analytics (`batches/api/views.py` serves them; the review endpoints are `reviews.py`)."""

from __future__ import annotations

import json

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dashboard.api.serializers import InputSerializer

from ..models import validate_annotation
from ..row_lists import max_length
from .batch_serializers import FailedRowSerializer
from .fields import RowItemsField, with_schema
from .label_serializers import ANNOTATION_SCHEMA, UserRefSerializer

MAX_GOLD_ROWS = 10_000  # rows in one `PUT gold/`


class AgreementQuerySerializer(serializers.Serializer):
    """The agreement query (other parameters are left alone)."""

    batch_id = serializers.CharField(required=False, max_length=64, help_text="One batch only")


class HistogramBucketSerializer(serializers.Serializer):
    # `from` is a Python keyword: the field is declared below.
    to = serializers.FloatField()
    rows = serializers.IntegerField()


HistogramBucketSerializer._declared_fields["from"] = serializers.FloatField()
HistogramBucketSerializer._declared_fields = {
    "from": HistogramBucketSerializer._declared_fields.pop("from"),
    **HistogramBucketSerializer._declared_fields,
}


class AgreementSerializer(serializers.Serializer):
    rows = serializers.IntegerField(help_text="Rows with two counted labels or more")
    mean = serializers.FloatField(allow_null=True)
    threshold = serializers.FloatField(allow_null=True, help_text="The project's threshold")
    below_threshold = serializers.IntegerField(
        allow_null=True, help_text="Rows below the threshold (null without one)"
    )
    histogram = HistogramBucketSerializer(many=True, help_text="10 buckets of 0.1")


class GoldRowSerializer(serializers.Serializer):
    data_row = serializers.CharField(source="data_row_id")
    global_key = serializers.CharField(source="data_row.global_key", allow_null=True)
    annotation = serializers.JSONField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def row_key_field(target: str) -> serializers.CharField:
    """An item's `data_row` or `global_key` (`target` data_rows / global_keys): one of them."""
    return serializers.CharField(
        required=False,
        allow_null=True,
        trim_whitespace=False,
        min_length=1,
        max_length=max_length(target),
    )


class GoldItemSerializer(InputSerializer):
    """One gold row of a PUT (the schema of an item; `GoldItemsField` reads them): no other
    keys, exactly one of `data_row` / `global_key`."""

    one_of = ("data_row", "global_key")

    data_row = row_key_field("data_rows")
    global_key = row_key_field("global_keys")
    annotation = with_schema(
        serializers.JSONField, {**ANNOTATION_SCHEMA, "description": "The known answer"}
    )()


@extend_schema_field(GoldItemSerializer(many=True, max_length=MAX_GOLD_ROWS))
class GoldItemsField(RowItemsField):
    """`[{data_row | global_key, annotation}]` (an empty list sets nothing), each checked: one
    of the two keys, a row as long as the data row field at most, a valid annotation."""

    value_key = "annotation"
    limit = MAX_GOLD_ROWS
    allow_empty = True

    def read_item(self, i: int, item: dict, *, key: str, value) -> dict:
        target = "data_rows" if key == "data_row" else "global_keys"
        if not isinstance(value, str) or not value or len(value) > max_length(target):
            raise serializers.ValidationError(
                f"Item {i}: the row must be a non-empty string of at most "
                f"{max_length(target)} characters."
            )
        if "annotation" not in item:
            raise serializers.ValidationError(f"Item {i} needs an annotation.")
        try:
            annotation = validate_annotation(item["annotation"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError(f"Item {i}: annotation: {exc.messages[0]}") from None
        limit = django_settings.LABEL_MAX_ANNOTATION_BYTES
        if len(json.dumps(annotation, separators=(",", ":"), ensure_ascii=False).encode()) > limit:
            raise serializers.ValidationError(
                f"Item {i}: an annotation is at most {limit} bytes of JSON."
            )
        return {key: value, "annotation": annotation}


class GoldInputSerializer(InputSerializer):
    rows = GoldItemsField()


class GoldResultSerializer(serializers.Serializer):
    set = serializers.IntegerField(help_text="Rows now gold with the answer given")
    failed = FailedRowSerializer(many=True)


class TimeRangeQuerySerializer(serializers.Serializer):
    """`?since=&until=` (ISO 8601; other parameters are left alone)."""

    since = serializers.DateTimeField(required=False, help_text="From (inclusive)")
    until = serializers.DateTimeField(required=False, help_text="To (exclusive)")

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since is not None and until is not None and since >= until:
            raise serializers.ValidationError({"since": "Must be before until."})
        return attrs


class LabelersQuerySerializer(TimeRangeQuerySerializer):
    format = serializers.ChoiceField(choices=["json", "csv"], default="json", required=False)


class ThroughputQuerySerializer(TimeRangeQuerySerializer):
    bucket = serializers.ChoiceField(choices=["hour", "day"], default="day", required=False)


class LabelerLineSerializer(serializers.Serializer):
    user = UserRefSerializer()
    labels = serializers.IntegerField()
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    pending_review = serializers.IntegerField()
    skips = serializers.IntegerField()
    median_seconds = serializers.FloatField(allow_null=True)
    agreement = serializers.FloatField(allow_null=True)
    gold_score = serializers.FloatField(allow_null=True)
    gold_labels = serializers.IntegerField()


class LabelersSerializer(serializers.Serializer):
    results = LabelerLineSerializer(many=True)


class ThroughputLineSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    labels = serializers.IntegerField()
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()


class ThroughputSerializer(serializers.Serializer):
    bucket = serializers.ChoiceField(choices=["hour", "day"])
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    results = ThroughputLineSerializer(many=True)
