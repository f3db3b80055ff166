"""Shapes of datasets, versions, frames and data rows in the API (validation of meaning lives
in the services; these describe and type-check the bodies)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dashboard.api.serializers import InputSerializer, RowFailureSerializer
from versions.models import Dataset, DatasetVersion


class DatasetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dataset
        fields = [
            "id",
            "name",
            "description",
            "tags",
            "dataset_project",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class DatasetCreateSerializer(InputSerializer):
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    tags = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    dataset_project = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default=""
    )
    raise_if_exists = serializers.BooleanField(required=False, default=False)


class DatasetUpdateSerializer(InputSerializer):
    name = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    dataset_project = serializers.CharField(max_length=255, required=False, allow_blank=True)


class StatsSerializer(serializers.Serializer):
    frame_count = serializers.IntegerField()
    source_count = serializers.IntegerField()
    label_counts = serializers.DictField(child=serializers.IntegerField())
    last_updated = serializers.DateTimeField(allow_null=True)


class VersionSerializer(serializers.ModelSerializer):
    stats = serializers.SerializerMethodField()

    class Meta:
        model = DatasetVersion
        fields = [
            "id",
            "dataset",
            "name",
            "description",
            "status",
            "parent",
            "metadata",
            "created_at",
            "updated_at",
            "published_at",
            "stats",
        ]
        read_only_fields = fields

    @extend_schema_field(StatsSerializer)
    def get_stats(self, version) -> dict:
        return version_stats_shape(version)


def version_stats_shape(version) -> dict:
    stats = version.stats or {}
    return {
        "frame_count": stats.get("frame_count", 0),
        "source_count": stats.get("source_count", 0),
        "label_counts": stats.get("label_counts", {}),
        "last_updated": stats.get("last_updated") or version.updated_at,
    }


class VersionCreateSerializer(InputSerializer):
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    parent = serializers.JSONField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The parent's id or name (published)",
    )
    metadata = serializers.JSONField(required=False, default=dict)
    raise_if_exists = serializers.BooleanField(required=False, default=False)


class VersionUpdateSerializer(InputSerializer):
    name = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class SnapshotSerializer(InputSerializer):
    publish_name = serializers.CharField(
        max_length=255, required=False, allow_blank=True, allow_null=True
    )
    publish_comment = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    publish_metadata = serializers.JSONField(required=False, allow_null=True)
    child_name = serializers.CharField(
        max_length=255, required=False, allow_blank=True, allow_null=True
    )
    child_comment = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    child_metadata = serializers.JSONField(required=False, allow_null=True)


class SourceSerializer(serializers.Serializer):
    id = serializers.CharField(required=False)
    uri = serializers.CharField()
    timestamp = serializers.JSONField(required=False)
    preview = serializers.JSONField(required=False)


class FrameSerializer(serializers.Serializer):
    id = serializers.CharField(required=False)
    global_key = serializers.CharField(required=False, allow_null=True)
    sources = SourceSerializer(many=True)
    meta = serializers.JSONField(required=False, allow_null=True, help_text="null: none")
    rois = serializers.JSONField(required=False, allow_null=True, help_text="null: none")
    attachments = serializers.JSONField(required=False, allow_null=True, help_text="null: none")


class FramesBodySerializer(InputSerializer):
    frames = FrameSerializer(many=True)


class FramesUpdateSerializer(InputSerializer):
    frames = FrameSerializer(many=True)
    without_fields = serializers.ListField(child=serializers.CharField(), required=False)


class FrameFailureSerializer(RowFailureSerializer):
    """The one row-failure shape, with the seed's names beside it."""

    frame = serializers.JSONField(help_text="the input (the seed's name)")
    error = serializers.CharField(help_text="the message (the seed's name)")


class FramesAddedSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    failed = FrameFailureSerializer(many=True)


class FramesUpdatedSerializer(serializers.Serializer):
    updated = serializers.IntegerField()
    failed = FrameFailureSerializer(many=True)


class FramesDeleteSerializer(InputSerializer):
    ids = serializers.ListField(child=serializers.CharField(max_length=255))
    delete_sources = serializers.BooleanField(
        required=False,
        default=False,
        help_text="also remove the deleted rows' source records that no version still holds",
    )


class DeletedSerializer(serializers.Serializer):
    """`frames/delete/`: unknown ids are a 400 (`missing` lists them; nothing deleted); a row
    with labels is not deleted and a repeated id is deleted once: each is listed in `failed`."""

    deleted = serializers.IntegerField()
    sources_deleted = serializers.IntegerField()
    failed = FrameFailureSerializer(many=True)


class MaskLabelSerializer(serializers.Serializer):
    value = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=255), min_length=3, max_length=3
    )
    labels = serializers.ListField(child=serializers.CharField())


class DiffSerializer(serializers.Serializer):
    counts = serializers.DictField(child=serializers.IntegerField())
    added = serializers.ListField(child=serializers.CharField())
    removed = serializers.ListField(child=serializers.CharField())
    changed = serializers.ListField(child=serializers.CharField())


class DataRowSerializer(serializers.Serializer):
    id = serializers.CharField()
    global_key = serializers.CharField(allow_null=True)
    row_data = serializers.CharField()
    metadata = serializers.JSONField()
    attachments = serializers.JSONField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def data_row_dict(entry) -> dict:
    content = entry.revision.content
    row = entry.data_row
    return {
        "id": row.pk,
        "global_key": row.global_key,
        "row_data": row.row_data,
        "metadata": content.get("meta") or {},
        "attachments": content.get("attachments") or [],
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }
