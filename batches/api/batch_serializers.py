"""API shapes and input serializers of batches: a batch with its progress and agreement, the
create-batch bodies (a row list, or a dataset), rename / re-prioritise, reorder, removals."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dashboard.api.serializers import InputSerializer, RowFailureSerializer
from dashboard.errors import Invalid

from ..analytics import batch_agreement, score_mean
from ..models import CONSENSUS_MAX_LABELS, NAME_PREFIX_MAX_LENGTH, Batch, QueueEntry
from ..review_selectors import batch_progress_counts
from ..row_lists import TARGETS, max_length
from ..services import MAX_BATCH_ROWS, MAX_BATCHES_ROWS
from .fields import (
    Int32Field,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StringListField,
    name_field,
    with_schema,
)

MAX_REORDER = 100_000  # batch ids in one reorder or export


class ConsensusSerializer(serializers.Serializer):
    number_of_labels = serializers.IntegerField(min_value=1)
    coverage_percentage = serializers.FloatField()


class BatchProgressSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    done = serializers.IntegerField(help_text="Rows with every label, none awaiting review")
    labels = serializers.IntegerField()
    pending_review = serializers.IntegerField()
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()


class BatchSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    labelled_count = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    agreement = serializers.SerializerMethodField()
    consensus_settings = ConsensusSerializer(allow_null=True, read_only=True)

    class Meta:
        model = Batch
        fields = [
            "id",
            "project",
            "name",
            "priority",
            "consensus_settings",
            "size",
            "labelled_count",
            "progress",
            "agreement",
            "dataset",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_labelled_count(self, batch) -> int:
        labelled = getattr(batch, "labelled_count", None)
        if labelled is None:
            labelled = batch.queue_entries.filter(state=QueueEntry.State.DONE).count()
        return labelled

    @extend_schema_field(BatchProgressSerializer)
    def get_progress(self, batch) -> dict:
        """Rows done (every label given, none awaiting review) and labels by review state."""
        return batch_progress_counts(batch)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_agreement(self, batch) -> float | None:
        """Mean agreement of the batch's rows with two counted labels or more (null: none)."""
        rows = getattr(batch, "agreement_rows", None)
        if rows is None and not hasattr(batch, "agreement_rows"):
            return batch_agreement(batch=batch)
        total = getattr(batch, "agreement_total", None) or 0.0
        return score_mean(total, rows)


class FailedRowSerializer(RowFailureSerializer):
    """The one row-failure shape, with Labelbox's names beside it."""

    data_row = serializers.CharField(allow_null=True)
    global_key = serializers.CharField(allow_null=True)
    reason = serializers.CharField()


class BatchCreatedSerializer(BatchSerializer):
    failed_data_rows = FailedRowSerializer(many=True, read_only=True)

    class Meta(BatchSerializer.Meta):
        fields = [*BatchSerializer.Meta.fields, "failed_data_rows"]
        read_only_fields = fields


class RemovedSerializer(serializers.Serializer):
    removed = serializers.IntegerField()
    held = serializers.IntegerField(help_text="Rows kept: a labeler holds them (removed later)")


# --- Request bodies -----------------------------------------------------------------------------
# Each API view validates its input here once (types, bounds matching the models, unknown fields
# refused); the services get clean keyword arguments and keep the domain rules.


class ConsensusInputSerializer(InputSerializer):
    number_of_labels = StrictIntegerField(min_value=1, max_value=CONSENSUS_MAX_LABELS)
    coverage_percentage = with_schema(
        serializers.FloatField, {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
    )(max_value=1, help_text="The share of rows labelled more than once: (0, 1]")

    def validate_coverage_percentage(self, value):
        if isinstance(self.initial_data.get("coverage_percentage"), bool | str) or value <= 0:
            raise serializers.ValidationError("Must be a number in (0, 1].")
        return float(value)


@extend_schema_field(ConsensusInputSerializer(allow_null=True))
class ConsensusField(serializers.Field):
    """`{number_of_labels, coverage_percentage}` or null; one message names what is wrong."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                "Must be an object {number_of_labels, coverage_percentage} or null."
            )
        inner = ConsensusInputSerializer(data=data)
        try:
            valid = inner.is_valid()
        except Invalid as exc:
            raise serializers.ValidationError(f"Unknown keys: {exc.field}.") from None
        if not valid:
            name, messages = next(iter(inner.errors.items()))
            raise serializers.ValidationError(f"{name}: {messages[0]}")
        return dict(inner.validated_data)


def row_list_field(*, target: str, limit: int) -> StringListField:
    what = "global key" if target == "global_keys" else "data row id"
    return with_schema(
        StringListField,
        {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": max_length(target)},
            "minItems": 1,
            "maxItems": limit,
            "description": f"One {what} per row, at most {limit}",
        },
    )(target=target, limit=limit, required=False, allow_null=True)


class RowListInput(InputSerializer):
    """A create-batch body: exactly one of `global_keys` / `data_rows`."""

    one_of = tuple(TARGETS)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        return {k: v for k, v in attrs.items() if v is not None or k not in TARGETS}


class BatchInputSerializer(RowListInput):
    name = name_field()
    global_keys = row_list_field(target="global_keys", limit=MAX_BATCH_ROWS)
    data_rows = row_list_field(target="data_rows", limit=MAX_BATCH_ROWS)
    priority = Int32Field(required=False, allow_null=True)
    consensus_settings = ConsensusField(required=False, allow_null=True)


class BatchesInputSerializer(RowListInput):
    name_prefix = name_field(max_length=NAME_PREFIX_MAX_LENGTH)
    global_keys = row_list_field(target="global_keys", limit=MAX_BATCHES_ROWS)
    data_rows = row_list_field(target="data_rows", limit=MAX_BATCHES_ROWS)
    priority = Int32Field(required=False, allow_null=True)
    consensus_settings = ConsensusField(required=False, allow_null=True)


class FromDatasetInputSerializer(InputSerializer):
    name_prefix = name_field(max_length=NAME_PREFIX_MAX_LENGTH)
    dataset_id = StrictCharField(error_messages={"blank": "This field is required."})
    version_id = StrictCharField(required=False, allow_null=True, allow_blank=True)
    priority = Int32Field(required=False, allow_null=True)
    consensus_settings = ConsensusField(required=False, allow_null=True)


class BatchPatchSerializer(InputSerializer):
    name = name_field(required=False)
    priority = Int32Field(required=False, allow_null=True)


class DeleteLabelsInputSerializer(InputSerializer):
    set_labels_as_template = StrictBooleanField(default=False)


class ReorderInputSerializer(InputSerializer):
    batch_ids = with_schema(
        StringListField,
        {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "maxItems": MAX_REORDER,
            "uniqueItems": True,
        },
    )(limit=MAX_REORDER, unique=True, message="Must be a non-empty list of batch ids.")
