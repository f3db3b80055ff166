"""Job shapes for the API (read-only: jobs are created by the verbs that start them), and
`InputSerializer`, the base of every request-body serializer: it refuses unknown fields."""

from collections.abc import Mapping
from pathlib import PurePosixPath

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from dashboard.errors import Invalid
from dashboard.models import Job, JobError


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField(allow_null=True)


class CountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    deleted = serializers.IntegerField()
    failed = serializers.IntegerField()


def public_params(params: dict) -> dict:
    """A job's parameters as clients may see them: a stored file (`path`, `*_path`) by its
    base name only, never where it lies on the server."""
    return {
        key: PurePosixPath(value).name
        if isinstance(value, str) and (key == "path" or key.endswith("_path"))
        else value
        for key, value in (params or {}).items()
    }


class JobSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    params = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()
    file_url = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "url",
            "kind",
            "status",
            "params",
            "progress",
            "counts",
            "result",
            "errors_count",
            "error",
            "file_url",
            "attempts",
            "cancel_requested",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_url(self, job) -> str:
        return reverse("api:job-detail", args=[job.pk], request=self.context.get("request"))

    @extend_schema_field(serializers.DictField())
    def get_params(self, job) -> dict:
        return public_params(job.params)

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, job) -> dict:
        return {"done": job.progress_done, "total": job.progress_total}

    @extend_schema_field(CountsSerializer)
    def get_counts(self, job) -> dict:
        return {key: int(job.counts.get(key, 0)) for key in CountsSerializer().fields}

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_file_url(self, job) -> str | None:
        if not job.file:
            return None
        return reverse("api:job-file", args=[job.pk], request=self.context.get("request"))


class JobErrorSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobError
        fields = ["index", "key", "input", "message", "error_type"]
        read_only_fields = fields


def refuse_unknown(data, fields) -> None:
    """An Invalid naming the first key of a body that is not one of `fields` (names, or an
    input serializer class whose fields they are)."""
    if isinstance(fields, type):
        fields = fields().fields
    if isinstance(data, Mapping):
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise Invalid(
                f"Unknown field {unknown[0]!r}: the fields are {', '.join(fields)}.",
                field=unknown[0],
            )


class InputSerializer(serializers.Serializer):
    """A request body: a field the schema does not name is a 400 naming it (never ignored)."""

    def to_internal_value(self, data):
        refuse_unknown(data, self.fields)
        return super().to_internal_value(data)
