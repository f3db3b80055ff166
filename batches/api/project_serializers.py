"""API shapes and input serializers of projects: the project itself, its export (a job or a
stream) and the publication of its labels into a dataset version."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dashboard.api.serializers import InputSerializer, QueryBooleanField

from ..models import (
    PROJECT_SETTINGS,
    RESERVATION_SECONDS_MAX,
    RESERVATION_SECONDS_MIN,
    Project,
    validate_label_classes,
)
from .batch_serializers import MAX_REORDER
from .fields import StrictCharField, StrictIntegerField, StringListField, name_field, with_schema


class ProjectSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Project
        fields = ["id", *PROJECT_SETTINGS, "created_by", "created_at", "updated_at"]
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]


@extend_schema_field(
    {
        "type": ["array", "null"],
        "items": {"type": "string", "pattern": r"\S"},
        "uniqueItems": True,
    }
)
class LabelClassesField(serializers.Field):
    """The ontology: unique, non-empty strings (`validate_label_classes`)."""

    def to_internal_value(self, data):
        return validate_label_classes(data)

    def to_representation(self, value):
        return value


class ShareField(serializers.FloatField):
    """A JSON number from 0 to 1 (not a string or a boolean)."""

    def __init__(self, **kwargs):
        super().__init__(min_value=0, max_value=1, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise serializers.ValidationError("Must be a number from 0 to 1.")
        return super().to_internal_value(data)


class ProjectInputSerializer(InputSerializer):
    name = name_field()
    description = StrictCharField(required=False, allow_blank=True, trim_whitespace=False)
    label_classes = LabelClassesField(required=False, allow_null=True)
    reservation_seconds = StrictIntegerField(
        required=False,
        min_value=RESERVATION_SECONDS_MIN,
        max_value=RESERVATION_SECONDS_MAX,
        error_messages={
            key: "Must be a whole number of seconds between 10 and 604800 (a week)."
            for key in ("invalid", "min_value", "max_value")
        },
    )
    review_percentage = ShareField(
        required=False, help_text="The share (0–1) of data rows whose labels await review"
    )
    agreement_threshold = ShareField(
        required=False,
        allow_null=True,
        help_text="Escalate a consensus row whose agreement is below it (0–1); null: never",
    )
    gold_percentage = ShareField(
        required=False, help_text="The share (0–1) of a labeler's next rows that are gold rows"
    )


class ExportInputSerializer(InputSerializer):
    batch_ids = with_schema(
        StringListField,
        {
            "type": ["array", "null"],
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "maxItems": MAX_REORDER,
            "description": "The batches to export (null: every batch of the project)",
        },
    )(limit=MAX_REORDER, required=False, allow_null=True, message="Must be a list of batch ids.")
    attachments = serializers.BooleanField(default=False)
    metadata_fields = serializers.BooleanField(default=False)
    data_row_details = serializers.BooleanField(default=False)
    labels = serializers.BooleanField(default=False)


class ExportQuerySerializer(serializers.Serializer):
    """The stream's query (other parameters are left alone, as links may carry them)."""

    batch_ids = serializers.CharField(required=False, allow_blank=True, help_text="Comma-separated")
    attachments = QueryBooleanField(default=False)
    metadata_fields = QueryBooleanField(default=False)
    data_row_details = QueryBooleanField(default=False)
    labels = QueryBooleanField(default=False)


class PublishLabelsInputSerializer(InputSerializer):
    dataset_id = StrictCharField(error_messages={"blank": "This field is required."})
    version_name = name_field()
