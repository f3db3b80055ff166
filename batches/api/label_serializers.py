"""API shapes and input serializers of the labeling queue and its labels: queue items and
reservations, labels with their review, the submit body and the queue preview's query; the
row, batch and user references other shapes reuse."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dashboard.api.serializers import InputSerializer
from dashboard.errors import INT32_MIN
from dashboard.roles import Role, user_has_role

from ..models import NO_PRIORITY_SORT, Label, validate_annotation
from ..review_selectors import rework_note
from ..selectors import MAX_PREVIEW
from .fields import with_schema


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


def user_ref(user) -> dict | None:
    return None if user is None else {"id": user.pk, "username": user.get_username()}


class RowRefSerializer(serializers.Serializer):
    id = serializers.CharField()
    global_key = serializers.CharField(allow_null=True)
    row_data = serializers.CharField()


def row_ref(row) -> dict:
    return {"id": row.pk, "global_key": row.global_key, "row_data": row.row_data}


class BatchRefSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


def batch_ref(batch) -> dict:
    return {"id": batch.pk, "name": batch.name}


class RefMethods:
    """The `data_row: {id, global_key, row_data}` and `batch: {id, name}` method fields of an
    item's objects (a queue entry, or a dict with `data_row` and `batch`)."""

    @staticmethod
    def _part(item, name: str):
        return item[name] if isinstance(item, dict) else getattr(item, name)

    @extend_schema_field(RowRefSerializer)
    def get_data_row(self, item) -> dict:
        return row_ref(self._part(item, "data_row"))

    @extend_schema_field(BatchRefSerializer)
    def get_batch(self, item) -> dict:
        return batch_ref(self._part(item, "batch"))


class RowAndBatchRefs(RefMethods, serializers.Serializer):
    """A shape that starts with `data_row` and `batch`."""

    data_row = serializers.SerializerMethodField()
    batch = serializers.SerializerMethodField()


class QueueItemSerializer(RefMethods, serializers.Serializer):
    """`{entry, data_row, batch, priority, expires_at?, template?}`."""

    entry = serializers.IntegerField(source="pk")
    data_row = serializers.SerializerMethodField()
    batch = serializers.SerializerMethodField()
    priority = serializers.SerializerMethodField()
    labels_required = serializers.IntegerField()
    labels_count = serializers.IntegerField()

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

ANNOTATION_SCHEMA = {
    "type": "object",
    "description": "A JSON object; `classes` (if given) a list of the project's label classes",
    "properties": {"classes": {"type": ["array", "null"], "items": {"type": "string"}}},
}


class SubmitInputSerializer(InputSerializer):
    annotation = with_schema(serializers.JSONField, ANNOTATION_SCHEMA)()

    def validate_annotation(self, annotation):
        return validate_annotation(annotation)


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
