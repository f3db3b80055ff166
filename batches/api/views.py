"""Project, batch, queue and label endpoints: validate the request with the view's input
serializer, call one service or selector, render the result (400/404/409, never a 500)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard.api.pagination import CursorPagination
from dashboard.api.parsers import StrictJSONParser, StrictMultiPartParser
from dashboard.api.responses import job_accepted
from dashboard.api.serializers import JobSerializer
from dashboard.errors import Conflict, Invalid, NotFound
from dashboard.models import Job
from dashboard.roles import Role, user_has_role
from dashboard.strict_json import json_parse

from .. import services
from ..analytics import agreement_summary, gold_list, labeler_stats, labelers_csv, throughput
from ..export import export_lines, export_options
from ..review_selectors import with_review_counts
from ..row_lists import refuse_long_lists, rows_from_upload
from ..selectors import (
    batch_get,
    batch_in_serving_order,
    batch_list,
    batch_ref,
    project_get,
    project_list,
    queue_preview,
)
from . import quality_serializers as q
from .batch_serializers import (
    BatchCreatedSerializer,
    BatchesInputSerializer,
    BatchInputSerializer,
    BatchPatchSerializer,
    BatchSerializer,
    DeleteLabelsInputSerializer,
    FromDatasetInputSerializer,
    RemovedSerializer,
    ReorderInputSerializer,
)
from .label_serializers import (
    LabelSerializer,
    QueueItemSerializer,
    QueueQuerySerializer,
    ReservationSerializer,
    SubmitInputSerializer,
)
from .priority_serializers import (
    PrioritiesInputSerializer,
    PrioritiesResultSerializer,
    PriorityItemSerializer,
)
from .project_serializers import (
    ExportInputSerializer,
    ExportQuerySerializer,
    ProjectInputSerializer,
    ProjectSerializer,
    PublishLabelsInputSerializer,
)

JOB_202 = OpenApiResponse(JobSerializer, description="Accepted: the job (Location header).")
ERRORS = {
    400: OpenApiResponse(description="Invalid input, naming the field."),
    404: OpenApiResponse(description="Unknown project, batch or entry."),
    409: OpenApiResponse(description="Conflict with the current state."),
}


def row_list_upload(name_field: str) -> dict:
    """The multipart alternative of a create-batch body: the row list as an uploaded `file`
    (one key per line, CSV with a key column, or JSON), the other fields as form fields."""
    return {
        "type": "object",
        "properties": {
            "file": {"type": "string", "format": "binary"},
            name_field: {"type": "string", "maxLength": 255},
            "priority": {"type": "string", "description": "JSON: an integer or null"},
            "consensus_settings": {"type": "string", "description": "JSON: an object or null"},
        },
        "required": ["file", name_field],
        "additionalProperties": False,
    }


UPLOAD_FORMATS = ("csv", "json", "ndjson", "txt", "")
UPLOAD_KEYS = ("global_key", "id", "data_row", "")


ROW_LIST_PARAMETERS = [
    OpenApiParameter(
        "format",
        str,
        enum=list(UPLOAD_FORMATS),
        description="with an uploaded file: its format (default from the file name)",
    ),
    OpenApiParameter(
        "key",
        str,
        enum=list(UPLOAD_KEYS),
        description="with an uploaded file: what its rows hold (default global_key)",
    ),
]


class RowListJSONParser(StrictJSONParser):
    """JSON whose `global_keys` / `data_rows` list is counted before it is built: the view's
    `rows_limit` + 1st item is a 400 naming the list (see row_lists.refuse_long_lists)."""

    def check(self, body: bytes, parser_context: dict) -> None:
        refuse_long_lists(body, limit=parser_context["view"].rows_limit)


class RowListInput:
    """Create-batch endpoints: a JSON body, or multipart with the row list as a `file`."""

    # (The docstring is the endpoints' description in the schema.) The body is read by the
    # view's `input_serializer`, its row list counted up to `rows_limit`.

    parser_classes = [RowListJSONParser, StrictMultiPartParser]
    rows_limit: int
    input_serializer: type[serializers.Serializer]

    @staticmethod
    def row_list_schema(input_serializer: type, *, name_field: str, responses: dict):
        """The endpoint's schema: the JSON body, the multipart alternative, `?format=&key=`."""
        return extend_schema(
            request={
                "application/json": input_serializer,
                "multipart/form-data": row_list_upload(name_field),
            },
            parameters=ROW_LIST_PARAMETERS,
            responses=responses,
        )

    def valid_body(self, request) -> dict:
        return valid(self.input_serializer, request_body(request, rows_limit=self.rows_limit))


def request_body(request, *, rows_limit: int | None = None) -> Any:
    """The request body as plain data (JSON; multipart only where the view takes a file), for
    the view's input serializer. Multipart forms (each field once: StrictMultiPartParser, for
    sessions too): `priority` and `consensus_settings` are decoded, an uploaded `file` becomes
    `global_keys` (or `data_rows` with `?key=id`), read and counted up to `rows_limit` rows."""
    data = request.data
    if rows_limit is not None:  # a create-batch endpoint: its upload options, also with JSON
        upload_options(request)
    if request.content_type and request.content_type.startswith("multipart/"):
        body: dict[str, Any] = {k: data.get(k) for k in data if k not in request.FILES}
        body.update({k: "(a file)" for k in request.FILES if k != "file"})
        for key in ("priority", "consensus_settings", "set_labels_as_template"):
            if isinstance(body.get(key), str):
                raw = body[key].strip()
                try:
                    body[key] = json_parse(raw) if raw else None
                except json.JSONDecodeError:
                    raise Invalid(
                        "Must be JSON (a number, an object or null).", field=key
                    ) from None
        form_key = body.pop("key", None)
        column = request.query_params.get("key") or form_key or "global_key"
        if column not in ("global_key", "id", "data_row"):
            raise Invalid("Must be global_key or id.", field="key")
        upload = request.FILES.get("file")
        if upload is not None and rows_limit is not None:
            target = "global_keys" if column == "global_key" else "data_rows"
            body[target] = rows_from_upload(
                upload,
                fmt=request.query_params.get("format", ""),
                target=target,
                limit=rows_limit,
            )
        return body
    return data


def upload_options(request) -> None:
    """`?format=` and `?key=` name an uploaded file's format and rows: a value they cannot
    take is a 400 naming them, whatever the body (as the schema says)."""
    if request.query_params.get("format", "") not in UPLOAD_FORMATS:
        raise Invalid("Must be csv, json, ndjson or txt.", field="format")
    if request.query_params.get("key", "") not in UPLOAD_KEYS:
        raise Invalid("Must be global_key or id.", field="key")


def valid(serializer_class: type[serializers.Serializer], data: Any, **kwargs) -> dict:
    """`data` validated by the view's input serializer (a 400 naming the field otherwise)."""
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", field="non_field_errors")
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def query_given(request) -> dict[str, str]:
    """The query's parameters that carry a value: `?x=` is as if `x` were not given (a form or
    a link template sends empty fields)."""
    return {k: v for k, v in request.query_params.dict().items() if v != ""}


class OldestFirst(CursorPagination):
    ordering = "id"


class ProjectListApi(ListAPIView):
    serializer_class = ProjectSerializer
    filter_backends: list = []

    def get_queryset(self):
        return project_list()

    @extend_schema(request=ProjectInputSerializer, responses={201: ProjectSerializer, **ERRORS})
    def post(self, request):
        body = valid(ProjectInputSerializer, request_body(request))
        project = services.project_create(**body, user=request.user)
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(APIView):
    @extend_schema(responses={200: ProjectSerializer, 404: ERRORS[404]})
    def get(self, request, project_id: str):
        return Response(ProjectSerializer(project_get(project_id=project_id)).data)

    @extend_schema(
        request=ProjectInputSerializer(partial=True),
        responses={200: ProjectSerializer, **ERRORS},
    )
    def patch(self, request, project_id: str):
        project = project_get(project_id=project_id)
        body = valid(ProjectInputSerializer, request_body(request), partial=True)
        project = services.project_update(project=project, **body)
        return Response(ProjectSerializer(project).data)


class BatchListApi(RowListInput, ListAPIView):
    rows_limit = services.MAX_BATCH_ROWS
    input_serializer = BatchInputSerializer
    serializer_class = BatchSerializer
    pagination_class = OldestFirst
    filter_backends: list = []

    def get_queryset(self):
        return batch_list(project=project_get(project_id=self.kwargs["project_id"]))

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return None if page is None else with_review_counts(page)

    @RowListInput.row_list_schema(
        BatchInputSerializer, name_field="name", responses={201: BatchCreatedSerializer, **ERRORS}
    )
    def post(self, request, project_id: str):
        project = project_get(project_id=project_id)
        body = self.valid_body(request)
        batch, failed = services.batch_create(project=project, user=request.user, **body)
        if batch is None:
            # Rows naming nothing are a 404; rows already in the project a 409 (their state).
            field = "global_keys" if "global_keys" in body else "data_rows"
            taken = any(f["reason"] == "already in this project" for f in failed)
            raise (Conflict if taken else NotFound)(
                "No batch was created: every row failed.",
                field=field,
                extra={"failed_data_rows": failed},
            )
        batch = batch_get(project=project, batch_id=batch.pk)
        batch.failed_data_rows = failed
        return Response(BatchCreatedSerializer(batch).data, status=status.HTTP_201_CREATED)


class BatchBulkApi(RowListInput, APIView):
    rows_limit = services.MAX_BATCHES_ROWS
    input_serializer = BatchesInputSerializer

    @RowListInput.row_list_schema(
        BatchesInputSerializer, name_field="name_prefix", responses={202: JOB_202, **ERRORS}
    )
    def post(self, request, project_id: str):
        project = project_get(project_id=project_id)
        body = self.valid_body(request)
        job = services.batches_create(project=project, user=request.user, **body)
        return job_accepted(job, request)


# A project's long operation: the body validated by `input_serializer`, the job started by
# `start(project=, user=, **body)`, answered 202. Not a docstring: the schema would show it as
# every subclass's description; each subclass declares its own schema.
class ProjectJobApi(APIView):
    input_serializer: type[serializers.Serializer]
    start: Callable[..., Job]

    def post(self, request, project_id: str):
        project = project_get(project_id=project_id)
        body = valid(self.input_serializer, request_body(request))
        job = self.start(project=project, user=request.user, **body)
        return job_accepted(job, request)


@extend_schema(request=FromDatasetInputSerializer, responses={202: JOB_202, **ERRORS})
class BatchFromDatasetApi(ProjectJobApi):
    input_serializer = FromDatasetInputSerializer
    start = staticmethod(services.batches_create_from_dataset)


class BatchDetailApi(APIView):
    def _batch(self, project_id: str, batch_id: str):
        return batch_get(project=project_get(project_id=project_id), batch_id=batch_id)

    @extend_schema(responses={200: BatchSerializer, 404: ERRORS[404]})
    def get(self, request, project_id: str, batch_id: str):
        return Response(BatchSerializer(self._batch(project_id, batch_id)).data)

    @extend_schema(request=BatchPatchSerializer, responses={200: BatchSerializer, **ERRORS})
    def patch(self, request, project_id: str, batch_id: str):
        batch = self._batch(project_id, batch_id)
        body = valid(BatchPatchSerializer, request_body(request))
        services.batch_update(batch=batch, **body)
        return Response(BatchSerializer(self._batch(project_id, batch_id)).data)

    @extend_schema(
        responses={
            204: OpenApiResponse(description="Deleted; the data rows stay."),
            404: ERRORS[404],
            409: OpenApiResponse(description="The batch has labels: `labels_count` says how many."),
        }
    )
    def delete(self, request, project_id: str, batch_id: str):
        services.batch_delete(batch=self._batch(project_id, batch_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BatchRemoveQueuedApi(APIView):
    @extend_schema(request=None, responses={200: RemovedSerializer, 404: ERRORS[404]})
    def post(self, request, project_id: str, batch_id: str):
        batch = batch_get(project=project_get(project_id=project_id), batch_id=batch_id)
        return Response(services.batch_remove_queued_data_rows(batch=batch))


class BatchDeleteLabelsApi(APIView):
    @extend_schema(request=DeleteLabelsInputSerializer, responses={202: JOB_202, **ERRORS})
    def post(self, request, project_id: str, batch_id: str):
        batch = batch_get(project=project_get(project_id=project_id), batch_id=batch_id)
        body = valid(DeleteLabelsInputSerializer, request_body(request))
        job = services.batch_delete_labels(batch=batch, **body, user=request.user, force_job=True)
        return job_accepted(job, request)


class BatchReorderApi(APIView):
    @extend_schema(
        request=ReorderInputSerializer, responses={200: BatchSerializer(many=True), **ERRORS}
    )
    def post(self, request, project_id: str):
        project = project_get(project_id=project_id)
        body = valid(ReorderInputSerializer, request_body(request))
        services.batches_reorder(project=project, **body)
        return Response(BatchSerializer(batch_in_serving_order(project=project), many=True).data)


class PrioritiesApi(APIView):
    @extend_schema(
        request=PriorityItemSerializer(
            many=True, min_length=1, max_length=services.MAX_PRIORITY_ROWS
        ),
        responses={200: PrioritiesResultSerializer, 202: JOB_202, **ERRORS},
    )
    def post(self, request, project_id: str):
        project = project_get(project_id=project_id)
        body = request_body(request)  # the item list, or {"items": the list}
        if isinstance(body, list):
            body = {"items": body}
        body = valid(PrioritiesInputSerializer, body)
        result = services.priorities_set(project=project, **body, user=request.user)
        if isinstance(result, Job):
            return job_accepted(result, request)
        return Response(result)


class QueueApi(APIView):
    @extend_schema(
        parameters=[QueueQuerySerializer],
        responses={200: QueueItemSerializer(many=True), 400: ERRORS[400], 404: ERRORS[404]},
    )
    def get(self, request, project_id: str):
        project = project_get(project_id=project_id)
        query = valid(QueueQuerySerializer, request.query_params.dict())
        entries = queue_preview(project=project, **query)
        return Response(QueueItemSerializer(entries, many=True).data)


class QueueNextApi(APIView):
    write_role = Role.LABELER

    @extend_schema(
        request=None,
        responses={
            200: ReservationSerializer,
            204: OpenApiResponse(description="Nothing is left for you in this queue."),
            404: ERRORS[404],
        },
    )
    def post(self, request, project_id: str):
        entry = services.queue_next(project=project_get(project_id=project_id), user=request.user)
        if entry is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(ReservationSerializer(entry).data)


class QueueSubmitApi(APIView):
    write_role = Role.LABELER

    @extend_schema(request=SubmitInputSerializer, responses={201: LabelSerializer, **ERRORS})
    def post(self, request, project_id: str, entry_id: str):
        project = project_get(project_id=project_id)
        body = valid(SubmitInputSerializer, request_body(request))
        label = services.label_submit(project=project, entry_id=entry_id, user=request.user, **body)
        answer = LabelSerializer(label, context={"request": request}).data
        return Response(answer, status=status.HTTP_201_CREATED)


class QueueSkipApi(APIView):
    write_role = Role.LABELER

    @extend_schema(request=None, responses={200: QueueItemSerializer, **ERRORS})
    def post(self, request, project_id: str, entry_id: str):
        project = project_get(project_id=project_id)
        entry = services.queue_skip(project=project, entry_id=entry_id, user=request.user)
        return Response(QueueItemSerializer(entry).data)


@extend_schema(request=ExportInputSerializer, responses={202: JOB_202, **ERRORS})
class ExportApi(ProjectJobApi):
    input_serializer = ExportInputSerializer
    start = staticmethod(services.export_start)


class ExportStreamApi(APIView):
    @extend_schema(
        parameters=[ExportQuerySerializer],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.STR, description="One JSON object per data row, streamed."
            ),
            400: ERRORS[400],
            403: OpenApiResponse(description="`labels=true` by a viewer or labeler."),
            404: ERRORS[404],
        },
    )
    def get(self, request, project_id: str):
        project = project_get(project_id=project_id)
        query = query_given(request)
        options = export_options(project=project, **valid(ExportQuerySerializer, query))
        if options.labels and not user_has_role(request.user, Role.MANAGER):
            # Other labelers' annotations (consensus rows still being labelled among them).
            raise PermissionDenied("Only managers export labels.")
        response = StreamingHttpResponse(
            (line.encode() for line in export_lines(options)),
            content_type="application/x-ndjson",
        )
        response["Content-Disposition"] = f'attachment; filename="export-{project.pk}.ndjson"'
        return response


@extend_schema(request=PublishLabelsInputSerializer, responses={202: JOB_202, **ERRORS})
class PublishLabelsApi(ProjectJobApi):
    input_serializer = PublishLabelsInputSerializer
    start = staticmethod(services.labels_publish_start)


# --- Quality: agreement, gold rows, analytics ---------------------------------------------------


class AgreementApi(APIView):
    read_role = Role.REVIEWER

    @extend_schema(
        parameters=[q.AgreementQuerySerializer],
        responses={200: q.AgreementSerializer, 400: ERRORS[400], 404: ERRORS[404]},
    )
    def get(self, request, project_id: str):
        project = project_get(project_id=project_id)
        query = valid(q.AgreementQuerySerializer, query_given(request))
        batch = None
        if query.get("batch_id"):
            batch = batch_ref(project=project, batch_id=query["batch_id"])
        return Response(agreement_summary(project=project, batch=batch))


class GoldPagination(CursorPagination):
    ordering = "id"


class GoldApi(ListAPIView):
    read_role = Role.REVIEWER
    serializer_class = q.GoldRowSerializer
    pagination_class = GoldPagination
    filter_backends: list = []

    def get_queryset(self):
        return gold_list(project=project_get(project_id=self.kwargs["project_id"]))

    @extend_schema(
        request=q.GoldInputSerializer,
        responses={200: q.GoldResultSerializer, 400: ERRORS[400], 404: ERRORS[404]},
    )
    def put(self, request, project_id: str):
        project = project_get(project_id=project_id)
        body = request_body(request)
        if isinstance(body, list):
            body = {"rows": body}
        body = valid(q.GoldInputSerializer, body)
        return Response(services.gold_set(project=project, rows=body["rows"], user=request.user))


class GoldDetailApi(APIView):
    @extend_schema(
        responses={
            204: OpenApiResponse(description="The row is no longer gold; its labels keep scores."),
            404: ERRORS[404],
        }
    )
    def delete(self, request, project_id: str, data_row_id: str):
        project = project_get(project_id=project_id)
        services.gold_delete(project=project, data_row_id=data_row_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LabelerAnalyticsApi(APIView):
    read_role = Role.REVIEWER

    @extend_schema(
        parameters=[q.LabelersQuerySerializer],
        responses={
            200: q.LabelersSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="?format=csv"),
            400: ERRORS[400],
            404: ERRORS[404],
        },
    )
    def get(self, request, project_id: str):
        project = project_get(project_id=project_id)
        query = valid(q.LabelersQuerySerializer, query_given(request))
        lines = labeler_stats(project=project, since=query.get("since"), until=query.get("until"))
        if query.get("format") == "csv":
            return labelers_csv(lines, filename=f"labelers-{project.pk}.csv")
        return Response({"results": lines})


class ThroughputApi(APIView):
    read_role = Role.REVIEWER

    @extend_schema(
        parameters=[q.ThroughputQuerySerializer],
        responses={200: q.ThroughputSerializer, 400: ERRORS[400], 404: ERRORS[404]},
    )
    def get(self, request, project_id: str):
        project = project_get(project_id=project_id)
        query = valid(q.ThroughputQuerySerializer, query_given(request))
        answer = throughput(
            project=project,
            bucket=query.get("bucket", "day"),
            since=query.get("since"),
            until=query.get("until"),
        )
        return Response(q.ThroughputSerializer(answer).data)
