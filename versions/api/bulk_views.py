"""Bulk endpoints for data rows and frames: import (202 + job), update and delete by filter
(202 + job), streamed export. Thin: read the request, call one service in `versions.bulk`."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.views import APIView

from dashboard.api.parsers import UPLOAD_PARSERS
from dashboard.api.responses import job_accepted
from dashboard.api.schema import PROJECTION_PATTERN
from dashboard.api.serializers import JobSerializer, refuse_unknown
from dashboard.bulk.export import content_type, export_filename
from dashboard.errors import Invalid
from versions import selectors
from versions.bulk.export import rows_export
from versions.bulk.start import (
    rows_delete_start,
    rows_import_start,
    rows_update_start,
)
from versions.metadata_schema import MetadataSchema
from versions.projection import parse_projection
from versions.row_filter import query_filter_q

from .serializers import RowsDeleteInputSerializer, RowsUpdateInputSerializer

# What the streamed export is, per format (the Content-Type the response carries).
EXPORT_RESPONSES = {
    (200, "application/json"): {"type": "array", "items": {"type": "object"}},
    (200, "application/x-ndjson"): OpenApiTypes.STR,
    (200, "text/csv"): OpenApiTypes.STR,
}

IMPORT_PARAMETERS = [
    OpenApiParameter(
        "format",
        str,
        enum=["csv", "json", "ndjson", ""],
        description="file format; default (or empty) from the file name",
    ),
    OpenApiParameter("mode", str, enum=["create", "upsert", "sync", ""]),
    OpenApiParameter("key", str, enum=["global_key", "id", ""]),
    OpenApiParameter("on_error", str, enum=["continue", "atomic", ""]),
    OpenApiParameter(
        "unknown",
        str,
        enum=["reject", "ignore", ""],
        description="unknown columns/fields: reject (400 / row error) or ignore",
    ),
]
OPTIONS = ("format", "mode", "key", "on_error", "unknown")  # empty: the default
EXPORT_PARAMETERS = [OpenApiParameter("format", str, enum=["csv", "json", "ndjson"])]
RECORDS = {"type": "array", "items": {}, "minItems": 1}
UPLOAD = {
    "multipart/form-data": {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary"}},
        "required": ["file"],
        "additionalProperties": False,
    },
    "application/json": {
        "type": "object",
        "description": 'The records as `{"records": [...]}` (a bare JSON array of records is '
        "read too, as API.md's bulk inputs: generated clients cannot read a schema that is an "
        "object or an array); a record that is not an object is a row error.",
        "properties": {"records": RECORDS},
        "required": ["records"],
        "additionalProperties": False,
    },
}


def _option(request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value is None and hasattr(request.data, "getlist"):
        value = request.data.get(name)
    return value or None


def _infer_schema(request) -> bool:
    """`?infer_schema=true|false` of a data-row import (default false)."""
    raw = _option(request, "infer_schema")
    if raw is None:
        return False
    if raw.strip().lower() not in ("true", "false", "1", "0"):
        raise Invalid("Must be true or false.", field="infer_schema")
    return raw.strip().lower() in ("true", "1")


def _import(request, *, record_type: str, **target):
    """Read a multipart `file` or a JSON array (or {"frames"/"records": [...]}) and start the
    import job into the target (`dataset=` or `version=`)."""
    upload = request.FILES.get("file") if hasattr(request, "FILES") else None
    options = {name: _option(request, name) for name in OPTIONS}
    if "dataset" in target:
        options["infer_schema"] = _infer_schema(request)
    if upload is not None:
        refuse_unknown(request.data, ("file", *OPTIONS, "infer_schema"))
        given = {"fileobj": upload, "filename": upload.name, "size": upload.size}
    else:
        body = data = request.data
        if isinstance(data, dict):
            data = data.get("records", data.get(record_type, data.get("frames")))
        if not isinstance(data, list):
            raise Invalid(
                "Upload a file (multipart field 'file') or send a JSON array of records.",
                field="file",
            )
        refuse_unknown(body, ("records", record_type, "frames"))
        options.pop("format")
        given = {"records": data}
    job = rows_import_start(
        record_type=record_type, **target, **given, **options, user=request.user
    )
    return job_accepted(job, request)


def export_format(request) -> str:
    """`?format=` of an export: csv, json or ndjson (the default when it is left out)."""
    fmt = request.query_params.get("format", "ndjson")
    if fmt not in ("csv", "json", "ndjson"):
        raise Invalid("Must be csv, json or ndjson.", field="format")
    return fmt


def _stream(request, *, version, record_type: str, stem: str, q=None, projection=None):
    fmt, pieces = rows_export(
        version=version,
        record_type=record_type,
        format=export_format(request),
        q=q,
        projection=projection,
    )
    response = StreamingHttpResponse(
        (piece.encode() for piece in pieces), content_type=content_type(fmt)
    )
    response["Content-Disposition"] = f'attachment; filename="{export_filename(stem, fmt)}"'
    response["Cache-Control"] = "no-store"
    return response


def body_of(request, fields: tuple[str, ...]) -> dict:
    """The JSON object sent (anything else: an empty one), no field but `fields` in it."""
    body = request.data if isinstance(request.data, dict) else {}
    refuse_unknown(body, fields)
    return body


INFER_SCHEMA = OpenApiParameter(
    "infer_schema",
    bool,
    description="a dataset without a metadata schema gets the one the first records' metadata "
    "suggests (types only: nothing required, no defaults)",
)


class DataRowImportApi(APIView):
    parser_classes = UPLOAD_PARSERS

    @extend_schema(
        parameters=[*IMPORT_PARAMETERS, INFER_SCHEMA],
        request=UPLOAD,
        responses={202: JobSerializer},
    )
    def post(self, request, dataset_id: str):
        dataset = selectors.dataset_get(dataset_id=dataset_id)
        return _import(request, record_type="data_rows", dataset=dataset)


class DataRowUpdateApi(APIView):
    @extend_schema(request=RowsUpdateInputSerializer, responses={202: JobSerializer})
    def post(self, request, dataset_id: str):
        dataset = selectors.dataset_get(dataset_id=dataset_id)
        body = body_of(request, ("filter", "set"))
        if "set" not in body:
            raise Invalid('Send {"filter": {...}, "set": {...}}.', field="set")
        job = rows_update_start(
            dataset=dataset, filter=body.get("filter"), set=body["set"], user=request.user
        )
        return job_accepted(job, request)


class DataRowDeleteApi(APIView):
    @extend_schema(request=RowsDeleteInputSerializer, responses={202: JobSerializer})
    def post(self, request, dataset_id: str):
        dataset = selectors.dataset_get(dataset_id=dataset_id)
        body = body_of(request, ("filter", "ids"))
        job = rows_delete_start(
            dataset=dataset, filter=body.get("filter"), ids=body.get("ids"), user=request.user
        )
        return job_accepted(job, request)


class DataRowExportApi(APIView):
    @extend_schema(parameters=EXPORT_PARAMETERS, responses=EXPORT_RESPONSES)
    def get(self, request, dataset_id: str):
        dataset = selectors.dataset_get(dataset_id=dataset_id)
        q = query_filter_q(request.query_params, schema=MetadataSchema(dataset.metadata_schema))
        return _stream(
            request,
            version=selectors.version_for_reading(dataset=dataset),
            record_type="data_rows",
            stem=f"{dataset.name}-data-rows",
            q=q,
        )


class FrameImportApi(APIView):
    parser_classes = UPLOAD_PARSERS

    @extend_schema(parameters=IMPORT_PARAMETERS, request=UPLOAD, responses={202: JobSerializer})
    def post(self, request, version_id: str):
        version = selectors.version_get(version_id=version_id)
        return _import(request, record_type="frames", version=version)


class FrameExportApi(APIView):
    @extend_schema(
        parameters=[
            *EXPORT_PARAMETERS,
            OpenApiParameter("projection", {"type": "string", "pattern": PROJECTION_PATTERN}),
        ],
        responses=EXPORT_RESPONSES,
    )
    def get(self, request, version_id: str):
        version = selectors.version_get(version_id=version_id)
        return _stream(
            request,
            version=version,
            record_type="frames",
            stem=f"{version.name}-frames",
            projection=parse_projection(request.query_params.get("projection")),
        )
