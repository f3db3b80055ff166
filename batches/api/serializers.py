"""API shapes of projects, batches, queue items and labels (output), and the input serializers
that validate every request body and query of the batches API once (types, bounds, fields)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dashboard.api.serializers import InputSerializer, QueryBooleanField, RowFailureSerializer
from dashboard.errors import INT32_MAX, INT32_MIN, Invalid, json_integer, validate_int32
from dashboard.roles import Role, user_has_role

from ..analytics import batch_agreement
from ..models import (
    CONSENSUS_MAX_LABELS,
    NAME_MAX_LENGTH,
    NAME_PREFIX_MAX_LENGTH,
    NO_PRIORITY_SORT,
    RESERVATION_SECONDS_MAX,
    RESERVATION_SECONDS_MIN,
    Batch,
    Label,
    Project,
    QueueEntry,
    validate_annotation,
    validate_label_classes,
)
from ..review_selectors import batch_progress_counts, rework_note
from ..row_lists import TARGETS, check_rows, max_length
from ..selectors import MAX_PREVIEW
from ..services import MAX_BATCH_ROWS, MAX_BATCHES_ROWS, MAX_PRIORITY_ROWS

MAX_REORDER = 100_000  # batch ids in one reorder or export


class ProjectSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "description",
            "label_classes",
            "reservation_seconds",
            "review_percentage",
            "agreement_threshold",
            "gold_percentage",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]


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
        return round(min(1.0, max(0.0, total / rows)), 4) if rows else None


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


class PrioritiesResultSerializer(serializers.Serializer):
    updated = serializers.IntegerField()
    failed = FailedRowSerializer(many=True)


class RemovedSerializer(serializers.Serializer):
    removed = serializers.IntegerField()
    held = serializers.IntegerField(help_text="Rows kept: a labeler holds them (removed later)")


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


def user_ref(user) -> dict | None:
    return None if user is None else {"id": user.pk, "username": user.get_username()}


class RowRefSerializer(serializers.Serializer):
    id = serializers.CharField()
    global_key = serializers.CharField(allow_null=True)
    row_data = serializers.CharField()


class BatchRefSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


class QueueItemSerializer(serializers.Serializer):
    """`{entry, data_row, batch, priority, expires_at?, template?}`."""

    entry = serializers.IntegerField(source="pk")
    data_row = serializers.SerializerMethodField()
    batch = serializers.SerializerMethodField()
    priority = serializers.SerializerMethodField()
    labels_required = serializers.IntegerField()
    labels_count = serializers.IntegerField()

    @extend_schema_field(RowRefSerializer)
    def get_data_row(self, entry) -> dict:
        row = entry.data_row
        return {"id": row.id, "global_key": row.global_key, "row_data": row.row_data}

    @extend_schema_field(BatchRefSerializer)
    def get_batch(self, entry) -> dict:
        return {"id": entry.batch_id, "name": entry.batch.name}

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_priority(self, entry) -> int | None:
        """The row's priority; null without one (or re-queued for rework at the front)."""
        if entry.sort_priority >= NO_PRIORITY_SORT or entry.sort_priority < INT32_MIN:
            return None
        return entry.sort_priority


class ReworkSerializer(serializers.Serializer):
    label = serializers.IntegerField(help_text="The rejected label")
    reason = serializers.CharField()
    reviewer = UserRefSerializer(allow_null=True)


class ReservationSerializer(QueueItemSerializer):
    expires_at = serializers.DateTimeField(source="reserved_until")
    template = serializers.JSONField(allow_null=True)
    rework = serializers.SerializerMethodField()

    @extend_schema_field(ReworkSerializer(allow_null=True))
    def get_rework(self, entry) -> dict | None:
        """A row re-queued after a rejection: which label, why, by whom; else null."""
        return rework_note(entry)


class ReviewSerializer(serializers.Serializer):
    reviewer = UserRefSerializer(allow_null=True)
    decision = serializers.ChoiceField(choices=Label.Decision.choices)
    reason = serializers.CharField(allow_blank=True)
    at = serializers.DateTimeField()


class LabelSerializer(serializers.ModelSerializer):
    """`{id, project, batch, data_row, author: {id, username}, annotation, status, seconds,
    review: {reviewer, decision, reason, at} | null, gold_score, created_at}`."""

    author = serializers.SerializerMethodField()
    review = serializers.SerializerMethodField()
    gold_score = serializers.SerializerMethodField()

    class Meta:
        model = Label
        fields = [
            "id",
            "project",
            "batch",
            "data_row",
            "author",
            "annotation",
            "status",
            "seconds",
            "review",
            "gold_score",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(UserRefSerializer)
    def get_author(self, label) -> dict:
        return user_ref(label.author)

    @extend_schema_field(ReviewSerializer(allow_null=True))
    def get_review(self, label) -> dict | None:
        if not label.decision:
            return None
        return {
            "reviewer": user_ref(label.reviewer) if label.reviewer_id else None,
            "decision": label.decision,
            "reason": label.reason,
            "at": serializers.DateTimeField().to_representation(label.reviewed_at),
        }

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_gold_score(self, label) -> float | None:
        """Similarity to the gold answer on gold rows, else null; null to a labeler (below
        reviewer): nothing in a labeler's answers tells a gold row apart."""
        request = self.context.get("request")
        if request is not None and not user_has_role(request.user, Role.REVIEWER):
            return None
        return getattr(label, "gold_score", None)


# --- Request bodies and queries -----------------------------------------------------------------
# Each API view validates its input here once (types, bounds matching the models, unknown fields
# refused); the services get clean keyword arguments and keep the domain rules. Errors keep the
# API's shape `{field: [message]}`: nested values (consensus, row lists, priority items) report
# one message naming the part that is wrong.


def _invalid(exc: Invalid) -> serializers.ValidationError:
    return serializers.ValidationError(exc.message)


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
            raise _invalid(exc) from None


def with_schema(field_class: type, spec: dict) -> type:
    """A subclass of `field_class` that the schema describes as `spec`."""
    return extend_schema_field(spec)(type(field_class.__name__, (field_class,), {}))


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
                raise _invalid(exc) from None
        return data


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


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false (not "yes", 1 or "on")."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            raise serializers.ValidationError("Must be true or false.")
        return data


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


class PriorityItemSerializer(InputSerializer):
    """One row override (the schema of an item; `PriorityItemsField` reads them)."""

    one_of = ("data_row", "global_key")

    data_row = serializers.CharField(required=False, allow_null=True, trim_whitespace=False)
    global_key = serializers.CharField(required=False, allow_null=True, trim_whitespace=False)
    priority = serializers.IntegerField(
        allow_null=True, min_value=INT32_MIN, max_value=INT32_MAX, help_text="null removes it"
    )


@extend_schema_field(PriorityItemSerializer(many=True, min_length=1, max_length=MAX_PRIORITY_ROWS))
class PriorityItemsField(serializers.Field):
    """`[{data_row | global_key, priority}]`, each checked (one of the two keys, a non-empty
    row, an int32 or null). Read in one loop, not a serializer per item: a million items stay
    fast."""

    def to_internal_value(self, items):
        if not isinstance(items, list) or not items:
            raise serializers.ValidationError(
                "Must be a non-empty list of {data_row | global_key, priority}."
            )
        if len(items) > MAX_PRIORITY_ROWS:
            raise serializers.ValidationError(
                f"At most {MAX_PRIORITY_ROWS} rows are accepted; got {len(items)}."
            )
        return [priority_item(i, item) for i, item in enumerate(items)]


def priority_item(i: int, item) -> dict:
    if not isinstance(item, dict):
        raise serializers.ValidationError(f"Item {i} must be an object.")
    unknown = set(item) - {"data_row", "global_key", "priority"}
    if unknown:
        raise serializers.ValidationError(
            f"Item {i} has unknown keys: {', '.join(sorted(unknown))}."
        )
    has_id, has_key = item.get("data_row") is not None, item.get("global_key") is not None
    if has_id == has_key:
        raise serializers.ValidationError(f"Item {i} needs exactly one of data_row or global_key.")
    if "priority" not in item:
        raise serializers.ValidationError(
            f"Item {i} needs a priority (an integer, or null to remove)."
        )
    value = item["data_row"] if has_id else item["global_key"]
    if not isinstance(value, str) or not value:
        raise serializers.ValidationError(f"Item {i}: the row must be a non-empty string.")
    try:
        priority = validate_int32(item["priority"], field="priority")
    except Invalid as exc:
        raise serializers.ValidationError(f"Item {i}: {exc.message}") from None
    return {"data_row" if has_id else "global_key": value, "priority": priority}


class PrioritiesInputSerializer(InputSerializer):
    items = PriorityItemsField()


ANNOTATION_SCHEMA = {
    "type": "object",
    "description": "A JSON object; `classes` (if given) a list of the project's label classes",
    "properties": {"classes": {"type": ["array", "null"], "items": {"type": "string"}}},
}


class SubmitInputSerializer(InputSerializer):
    annotation = with_schema(serializers.JSONField, ANNOTATION_SCHEMA)()

    def validate_annotation(self, annotation):
        return validate_annotation(annotation)


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


class QueueQuerySerializer(serializers.Serializer):
    """The queue preview's query (other parameters are left alone)."""

    limit = serializers.IntegerField(
        default=10,
        min_value=1,
        max_value=MAX_PREVIEW,
        error_messages={
            "invalid": "Must be a whole number.",
            "min_value": f"Must be between 1 and {MAX_PREVIEW}.",
            "max_value": f"Must be between 1 and {MAX_PREVIEW}.",
        },
    )


class PublishLabelsInputSerializer(InputSerializer):
    dataset_id = StrictCharField(error_messages={"blank": "This field is required."})
    version_name = name_field()
