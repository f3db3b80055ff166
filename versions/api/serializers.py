"""Shapes of datasets, versions, frames and data rows in the API (validation of meaning lives
in the services; these describe and type-check the bodies)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dashboard.api.schema import (
    METADATA_KEY_PATTERN,
    METADATA_REF,
    PROJECTION_ITEM_PATTERN,
    WHITE,
    WS,
    metadata_object,
)
from dashboard.api.serializers import InputSerializer, RowFailureSerializer
from versions.bulk.start import MAX_DELETE_IDS
from versions.models import Dataset, DatasetVersion
from versions.row_filter import filter_schema
from versions.services.frames import LEAVE_OUT

# A dataset tag: not blank, and not starting with `-` or `__$` (the filter syntax) once trimmed.
TAG_PATTERN = f"^{WS}*([^{WHITE}_-]|_([^_]|$)|__([^$]|$))"


@extend_schema_field({"type": "string", "pattern": TAG_PATTERN})
class TagField(serializers.CharField):
    """A dataset tag (the service checks it: `_clean_tags`)."""


def tags_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=TagField(), **kwargs)


def metadata_field(*, nullable: bool = False, **kwargs) -> serializers.JSONField:
    """User metadata: an object whose keys hold neither `$` nor `.` (at any depth)."""
    schema = metadata_object(nullable=nullable)
    schema["properties"] = {"mask_labels": MASK_LABELS_SCHEMA}
    field_class = extend_schema_field(schema)(type("MetadataField", (serializers.JSONField,), {}))
    return field_class(allow_null=nullable, **kwargs)


def metadata_body() -> dict:
    """The metadata endpoint's body: a metadata object, `mask_labels` checked if given."""
    return {**metadata_object(), "properties": {"mask_labels": MASK_LABELS_SCHEMA}}


MASK_LABELS_SCHEMA = {
    "type": "array",
    "description": "`[{value: [r, g, b], labels: [...]}]`, each value once",
    "items": {
        "type": "object",
        "properties": {
            "value": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": 255},
                "minItems": 3,
                "maxItems": 3,
            },
            "labels": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["value", "labels"],
        # Other keys are dropped, but checked as metadata keys are (no `$` nor `.`).
        "propertyNames": {"pattern": METADATA_KEY_PATTERN},
        "additionalProperties": METADATA_REF,
    },
}


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
    tags = tags_field(required=False, default=list)
    dataset_project = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default=""
    )
    raise_if_exists = serializers.BooleanField(required=False, default=False)


class DatasetUpdateSerializer(InputSerializer):
    name = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    tags = tags_field(required=False)
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
    parent = extend_schema_field({"type": ["string", "null"]})(
        type("ParentField", (serializers.JSONField,), {})
    )(
        required=False,
        allow_null=True,
        default=None,
        help_text="The parent's id or name (published)",
    )
    metadata = metadata_field(required=False, default=dict)
    raise_if_exists = serializers.BooleanField(required=False, default=False)


class VersionUpdateSerializer(InputSerializer):
    name = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class SnapshotSerializer(InputSerializer):
    publish_name = serializers.CharField(
        max_length=255, required=False, allow_blank=True, allow_null=True
    )
    publish_comment = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    publish_metadata = metadata_field(nullable=True, required=False)
    child_name = serializers.CharField(
        max_length=255, required=False, allow_blank=True, allow_null=True
    )
    child_comment = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    child_metadata = metadata_field(nullable=True, required=False)


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


# Each frame is checked on its own: one that is not valid is listed in the answer's `failed`
# (with the reason), never a 400 for the request; so the schema takes any item, and names the
# shape a frame should have.
FRAME_ITEMS = {
    "type": "array",
    "items": {
        "description": (
            "A frame `{id, global_key, sources: [{id, uri, timestamp, preview}], meta, rois, "
            "attachments}`; one that is not valid is listed in `failed`, not refused"
        ),
    },
}


FrameItemsField = extend_schema_field(FRAME_ITEMS)(type("FrameItems", (serializers.JSONField,), {}))


class FramesBodySerializer(InputSerializer):
    frames = FrameItemsField()


class FramesUpdateSerializer(InputSerializer):
    whole_on_patch = True  # PATCH merges frames, but the body itself is whole
    frames = FrameItemsField()
    without_fields = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(LEAVE_OUT)), required=False
    )


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
    """`frames/delete/`: unknown ids are a 404 (`missing` lists them; nothing deleted); a row
    with labels is not deleted and a repeated id is deleted once: each is listed in `failed`."""

    deleted = serializers.IntegerField()
    sources_deleted = serializers.IntegerField()
    failed = FrameFailureSerializer(many=True)


MAX_BODY_IDS = 10_000


@extend_schema_field({"type": "string", "pattern": PROJECTION_ITEM_PATTERN})
class ProjectionPathField(serializers.CharField):
    """One projection path (`sources.uri`); blank ones are skipped."""


class FrameQueryInputSerializer(InputSerializer):
    ids = serializers.ListField(child=serializers.CharField(), max_length=MAX_BODY_IDS)
    projection = serializers.ListField(
        child=ProjectionPathField(allow_blank=True, trim_whitespace=False), required=False
    )


class FrameQueryResultSerializer(serializers.Serializer):
    results = serializers.ListField(child=serializers.DictField())
    missing = serializers.ListField(child=serializers.CharField())


class MaskLabelSerializer(serializers.Serializer):
    value = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=255), min_length=3, max_length=3
    )
    labels = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False)
    )


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


FilterField = extend_schema_field(filter_schema())(
    type("FilterField", (serializers.JSONField,), {})
)


class RowsUpdateInputSerializer(InputSerializer):
    """`data-rows/update/` (the schema; the service reads the body): every row matching
    `filter` (none: every row) gets the values of `set`."""

    filter = FilterField(required=False, allow_null=True)
    set = extend_schema_field(
        {
            "type": "object",
            "minProperties": 1,
            "properties": {
                "row_data": {"type": "string", "minLength": 1},
                "metadata": {
                    **metadata_object(),
                    "description": "merged key by key; a key set to null is removed",
                },
                "attachments": {"type": "array"},
            },
            "additionalProperties": False,
        }
    )(type("SetField", (serializers.JSONField,), {}))()


class RowsDeleteInputSerializer(InputSerializer):
    """`data-rows/delete/` (the schema; the service reads the body): the rows matching a
    non-empty `filter`, or the listed `ids`."""

    one_of = ("filter", "ids")
    filter = extend_schema_field({**filter_schema(), "minProperties": 1})(
        type("FilterField", (serializers.JSONField,), {})
    )(required=False, allow_null=True)
    ids = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False),
        min_length=1,
        max_length=MAX_DELETE_IDS,
        required=False,
        allow_null=True,
    )
