"""API shapes for projects, batches, queue items and labels (output), and request bodies
(`InputSerializer`s: their fields are the only ones a body may have; the services validate
the values)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dashboard.api.serializers import InputSerializer

from ..models import NO_PRIORITY_SORT, Batch, Label, Project, QueueEntry
from ..selectors import batch_progress


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
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]


class ProjectInputSerializer(InputSerializer):
    name = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True)
    label_classes = serializers.ListField(child=serializers.CharField(), required=False)
    reservation_seconds = serializers.IntegerField(required=False, min_value=10)


class ConsensusSerializer(serializers.Serializer):
    number_of_labels = serializers.IntegerField(min_value=1)
    coverage_percentage = serializers.FloatField()


class BatchSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    labelled_count = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
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

    @extend_schema_field(serializers.FloatField())
    def get_progress(self, batch) -> float:
        """Share of the batch's rows with every label they need, 0…1."""
        return round(batch_progress(batch) / 100, 2) if batch.size else 0.0


class FailedRowSerializer(serializers.Serializer):
    data_row = serializers.CharField(allow_null=True)
    global_key = serializers.CharField(allow_null=True)
    reason = serializers.CharField()


class BatchCreatedSerializer(BatchSerializer):
    failed_data_rows = FailedRowSerializer(many=True, read_only=True)

    class Meta(BatchSerializer.Meta):
        fields = [*BatchSerializer.Meta.fields, "failed_data_rows"]
        read_only_fields = fields


class BatchInputSerializer(InputSerializer):
    name = serializers.CharField()
    global_keys = serializers.ListField(child=serializers.CharField(), required=False)
    data_rows = serializers.ListField(child=serializers.CharField(), required=False)
    priority = serializers.IntegerField(required=False, allow_null=True)
    consensus_settings = ConsensusSerializer(required=False, allow_null=True)


class BatchesInputSerializer(InputSerializer):
    name_prefix = serializers.CharField()
    global_keys = serializers.ListField(child=serializers.CharField(), required=False)
    data_rows = serializers.ListField(child=serializers.CharField(), required=False)
    priority = serializers.IntegerField(required=False, allow_null=True)
    consensus_settings = ConsensusSerializer(required=False, allow_null=True)


class FromDatasetInputSerializer(InputSerializer):
    name_prefix = serializers.CharField()
    dataset_id = serializers.CharField()
    version_id = serializers.CharField(required=False, allow_null=True)
    priority = serializers.IntegerField(required=False, allow_null=True)
    consensus_settings = ConsensusSerializer(required=False, allow_null=True)


class BatchPatchSerializer(InputSerializer):
    name = serializers.CharField(required=False)
    priority = serializers.IntegerField(required=False, allow_null=True)


class DeleteLabelsInputSerializer(InputSerializer):
    set_labels_as_template = serializers.BooleanField(default=False)


class ReorderInputSerializer(InputSerializer):
    batch_ids = serializers.ListField(child=serializers.CharField())


class PriorityItemSerializer(serializers.Serializer):
    data_row = serializers.CharField(required=False)
    global_key = serializers.CharField(required=False)
    priority = serializers.IntegerField(allow_null=True)


class PrioritiesInputSerializer(InputSerializer):
    items = PriorityItemSerializer(many=True)


class PrioritiesResultSerializer(serializers.Serializer):
    updated = serializers.IntegerField()
    failed = FailedRowSerializer(many=True)


class RemovedSerializer(serializers.Serializer):
    removed = serializers.IntegerField()
    held = serializers.IntegerField(help_text="Rows kept: a labeler holds them (removed later)")


class SubmitInputSerializer(InputSerializer):
    annotation = serializers.JSONField()


class ExportInputSerializer(InputSerializer):
    batch_ids = serializers.ListField(child=serializers.CharField(), required=False)
    attachments = serializers.BooleanField(default=False)
    metadata_fields = serializers.BooleanField(default=False)
    data_row_details = serializers.BooleanField(default=False)
    labels = serializers.BooleanField(default=False)


class PublishLabelsInputSerializer(InputSerializer):
    dataset_id = serializers.CharField()
    version_name = serializers.CharField()


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
        return None if entry.sort_priority >= NO_PRIORITY_SORT else entry.sort_priority


class ReservationSerializer(QueueItemSerializer):
    expires_at = serializers.DateTimeField(source="reserved_until")
    template = serializers.JSONField(allow_null=True)


class LabelSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Label
        fields = ["id", "project", "batch", "data_row", "author", "annotation", "created_at"]
        read_only_fields = fields
