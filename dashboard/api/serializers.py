"""Job shapes for the API (read-only: jobs are created by the verbs that start them), and
`InputSerializer`, the base of every request-body serializer: it refuses unknown fields and
JSON values of the wrong type (DRF would turn `0` into `"0"` or `false`)."""

from collections.abc import Mapping
from pathlib import PurePosixPath

from django.http import QueryDict
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from dashboard.bulk.records import row_error_code
from dashboard.errors import Invalid, json_integer
from dashboard.models import Job, JobError
from dashboard.selectors import job_file_readable


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
        """The file's URL for those who may read it (its creator and managers), else null."""
        request = self.context.get("request")
        if not job.file or request is None:
            return None
        if not job_file_readable(job=job, user=request.user):
            return None
        return reverse("api:job-file", args=[job.pk], request=request)


class JobErrorSerializer(serializers.ModelSerializer):
    """A job's row failure, in the shape of every synchronous answer's row failures."""

    code = serializers.SerializerMethodField()

    class Meta:
        model = JobError
        fields = ["index", "key", "input", "message", "error_type", "code"]
        read_only_fields = fields

    def get_code(self, error) -> str:
        return row_error_code(error.error_type)


class RowFailureSerializer(serializers.Serializer):
    """A row failure in a synchronous answer: the shape of `jobs/{id}/errors/` items."""

    index = serializers.IntegerField(allow_null=True, help_text="0-based position in the input")
    key = serializers.CharField(allow_blank=True)
    input = serializers.JSONField(allow_null=True)
    message = serializers.CharField()
    error_type = serializers.CharField()
    code = serializers.CharField()


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


def json_type_error(field: serializers.Field, value) -> str | None:
    """Why a JSON `value` cannot be what `field` declares (the schema's type), or None. DRF
    coerces (`0` → `"0"`, `0` → `false`, `"5"` → `5`); a JSON body must carry the declared
    type, as the OpenAPI schema says."""
    if value is None:
        return None if field.allow_null else "This field may not be null."
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, serializers.IntegerField):
        return None if json_integer(value) is not None else "Must be an integer."
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else "Must be a number."
    if isinstance(field, serializers.CharField | serializers.ChoiceField):
        return None if isinstance(value, str) else "Must be a string."
    if isinstance(field, serializers.ListField | serializers.ListSerializer):
        if not isinstance(value, list):
            return "Must be a list."
        child = field.child
        return next(
            (
                f"Item {i}: {error}"
                for i, item in enumerate(value)
                if (error := json_type_error(child, item))
            ),
            None,
        )
    if isinstance(field, serializers.DictField | serializers.Serializer):
        return None if isinstance(value, dict) else "Must be an object."
    return None


class InputSerializer(serializers.Serializer):
    """A request body: a field the schema does not name is a 400 naming it (never ignored), and
    a JSON value of another type than the field's is a 400 naming it (never coerced)."""

    # Fields of which exactly one must be given (not null): a 400 naming the first otherwise,
    # and the schema says so (dashboard.api.schema.exactly_one_of).
    one_of: tuple[str, ...] = ()
    # `(field, value, names)`: when `field` is `value`, the text fields `names` are required
    # and not blank (the serializer's `validate` checks it; dashboard.api.schema.required_when
    # says so in the schema).
    required_when: tuple = ()

    def validate(self, attrs):
        if self.one_of:
            given = [name for name in self.one_of if attrs.get(name) is not None]
            if len(given) != 1:
                names = " or ".join(self.one_of)
                raise serializers.ValidationError(
                    {self.one_of[0]: f"Give exactly one of {names}{', not both' if given else ''}."}
                )
        return super().validate(attrs)

    def to_internal_value(self, data):
        refuse_unknown(data, self.fields)
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            errors = {
                name: [message]
                for name, field in self.fields.items()
                if name in data and (message := json_type_error(field, data[name]))
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


# --- Query parameters ---------------------------------------------------------------------------
QUERY_TRUE, QUERY_FALSE = ("1", "true"), ("0", "false")


def query_bool_value(raw: str, *, name: str) -> bool:
    """A boolean query parameter: true/false/1/0 (any case, blanks trimmed), else a 400
    naming it — the one way every boolean query parameter is read."""
    value = raw.strip().lower()
    if value not in QUERY_TRUE + QUERY_FALSE:
        raise Invalid("Must be true or false.", field=name)
    return value in QUERY_TRUE


def query_bool(request, name: str) -> bool:
    """`?name=` as a boolean (left out: false)."""
    raw = request.query_params.get(name)
    return False if raw is None else query_bool_value(raw, name=name)


class QueryBooleanField(serializers.BooleanField):
    """A boolean query parameter in a query serializer, read as `query_bool_value` reads it."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            return super().to_internal_value(data)
        try:
            return query_bool_value(data, name=self.field_name)
        except Invalid as exc:
            raise serializers.ValidationError(exc.message) from None
