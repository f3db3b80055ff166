"""The API root, and job endpoints: list, detail, per-row errors, cancel, produced file."""

import re
import threading
import time

from django.conf import settings
from django.db import connection
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from dashboard.errors import Invalid, NotFound
from dashboard.filters import JobFilter
from dashboard.jobs.services import job_cancel, job_retry
from dashboard.models import Job
from dashboard.roles import Role
from dashboard.selectors import job_errors, job_errors_from, job_file_readable, job_get, job_list

from .pagination import (
    CursorPagination,
    invalid_cursor,
    keyset_cursor,
    keyset_page,
    page_schema,
    page_size,
)
from .responses import job_accepted
from .serializers import JobErrorSerializer, JobSerializer

# The collections a client starts from; everything else is reached through them.
ROOT_COLLECTIONS = {
    "datasets": "api:dataset-list",
    "projects": "api:project-list",
    "jobs": "api:job-list",
}


class ApiRootApi(APIView):
    """GET /api/v1/: links to the main collections and to the schema and docs."""

    @extend_schema(
        responses=inline_serializer(
            "ApiRoot",
            {
                **{name: serializers.URLField() for name in ROOT_COLLECTIONS},
                "schema": serializers.URLField(),
                "docs": serializers.URLField(),
            },
        )
    )
    def get(self, request):
        links = {name: reverse(url, request=request) for name, url in ROOT_COLLECTIONS.items()}
        links["schema"] = reverse("schema", request=request)
        links["docs"] = reverse("api-docs", request=request)
        return Response(links)


class JobPagination(CursorPagination):
    ordering = "-created_at"


class JobListApi(generics.ListAPIView):
    serializer_class = JobSerializer
    filterset_class = JobFilter
    pagination_class = JobPagination

    def get_queryset(self):
        return job_list()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status", str, enum=[*Job.Status.values, ""], description="empty: any status"
            )
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


MAX_WAIT_SECONDS = 60
WAIT_POLL_SECONDS = 0.25
RETRY_AFTER_SECONDS = 1


def wait_seconds(request) -> float:
    """`?wait=N`: 0 to MAX_WAIT_SECONDS seconds (a number), else a 400 naming `wait`."""
    raw = request.query_params.get("wait")
    if raw is None:
        return 0.0
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_WAIT_SECONDS:  # also refuses nan and inf
        raise Invalid(f"Must be a number of seconds from 0 to {MAX_WAIT_SECONDS}.", field="wait")
    return seconds


# A wait holds a web thread for up to MAX_WAIT_SECONDS (never a database connection: it is
# given back between reads). At most JOB_WAIT_CONCURRENCY of a process's requests wait at once;
# the next ones answer at once ("waits up to N seconds"), with Retry-After, so waiting clients
# never take every thread of a web process. A server with one thread per process (sync
# workers) should set JOB_WAIT_CONCURRENCY=0.
_waiting = threading.BoundedSemaphore(max(settings.JOB_WAIT_CONCURRENCY, 0) or 1)
_waiting_allowed = settings.JOB_WAIT_CONCURRENCY > 0


def job_wait(*, job_id: str, seconds: float) -> Job:
    """The job once it has ended, or as it is after `seconds` (at once when this process has
    JOB_WAIT_CONCURRENCY requests waiting already): re-reads its status every
    WAIT_POLL_SECONDS, giving the database connection back between reads when it may."""
    job = job_get(job_id=job_id)
    if job.status in Job.ENDED or seconds <= 0:
        return job
    if not (_waiting_allowed and _waiting.acquire(blocking=False)):
        return job
    try:
        deadline = time.monotonic() + seconds
        while job.status not in Job.ENDED and time.monotonic() < deadline:
            release_connection()
            time.sleep(min(WAIT_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
            status = Job.objects.filter(pk=job_id).values_list("status", flat=True).first()
            if status is None or status in Job.ENDED:
                job = job_get(job_id=job_id)
                break
    finally:
        _waiting.release()
    return job


def release_connection() -> None:
    """Close the request's connection while it sleeps (reopened on the next query), unless a
    transaction holds it or it is an in-memory SQLite database (closing would drop it)."""
    if connection.in_atomic_block:
        return
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return
    connection.close()


class JobDetailApi(generics.RetrieveAPIView):
    """GET jobs/{id}/ (`?wait=N` waits up to N seconds for the job to end); a job still queued
    or running answers with `Retry-After`."""

    serializer_class = JobSerializer

    def get_object(self):
        return job_wait(job_id=self.kwargs["job_id"], seconds=wait_seconds(self.request))

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "wait",
                {"type": "number", "minimum": 0, "maximum": MAX_WAIT_SECONDS},
                description=f"wait up to this many seconds (0-{MAX_WAIT_SECONDS}) for the job "
                "to end",
            )
        ],
        responses={
            200: OpenApiResponse(
                JobSerializer,
                description="The job; `Retry-After` (seconds) while it is queued or running.",
            )
        },
    )
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if response.data.get("status") not in Job.ENDED:
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


# A position in a job's errors (the cursor's key): "<index>.<id>", or "n.<id>" without an index.
ERROR_POSITION_RE = re.compile(r"(n|0|[1-9][0-9]{0,17})\.([1-9][0-9]{0,17})")


def _error_position(key: str) -> tuple[int | None, int]:
    match = ERROR_POSITION_RE.fullmatch(key)
    if match is None:
        raise invalid_cursor()
    index, error_id = match.groups()
    return (None if index == "n" else int(index)), int(error_id)


class JobErrorListApi(APIView):
    """A job's row errors in input order (by index, then id), cursor-paginated."""

    @extend_schema(
        parameters=[
            OpenApiParameter("page_size", int, description="1-1000"),
            OpenApiParameter("cursor", str, description="from a page's `next` or `previous` link"),
        ],
        responses=page_schema(JobErrorSerializer, name="PaginatedJobErrorList"),
    )
    def get(self, request, job_id: str):
        job = job_get(job_id=job_id)
        limit, cursor = page_size(request), keyset_cursor(request)
        if cursor.key:
            index, error_id = _error_position(cursor.key)
            errors = job_errors_from(
                job=job, index=index, error_id=error_id, backward=cursor.backward
            )
        else:
            errors = job_errors(job=job)
        found = list(errors[: limit + 1])
        shown = found[:limit][::-1] if cursor.backward else found[:limit]
        positions = [{"at": f"{'n' if e.index is None else e.index}.{e.pk}"} for e in shown]
        page = keyset_page(request, positions, key="at", cursor=cursor, has_more=len(found) > limit)
        page["results"] = JobErrorSerializer(shown, many=True).data
        return Response(page)


class JobCancelApi(APIView):
    # Whoever may start jobs may cancel them.
    write_role = Role.MANAGER

    @extend_schema(
        request=None,
        responses={
            200: JobSerializer,
            409: OpenApiResponse(description="The job has already ended."),
        },
    )
    def post(self, request, job_id: str):
        job = job_cancel(job=job_get(job_id=job_id))
        return Response(JobSerializer(job, context={"request": request}).data)


class JobRetryApi(APIView):
    write_role = Role.MANAGER

    @extend_schema(
        request=None,
        responses={
            202: JobSerializer,
            409: OpenApiResponse(description="The job is not failed or cancelled."),
        },
    )
    def post(self, request, job_id: str):
        return job_accepted(job_retry(job=job_get(job_id=job_id)), request)


DOWNLOAD_TYPES = {
    "ndjson": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}


class JobFileApi(APIView):
    @extend_schema(
        responses={
            (200, media_type): OpenApiResponse(
                OpenApiTypes.BINARY, description="The produced file, streamed (an attachment)."
            )
            for media_type in (
                "application/x-ndjson",
                "text/csv",
                "application/json",
                "application/octet-stream",
            )
        }
    )
    def get(self, request, job_id: str):
        job = job_get(job_id=job_id)
        if not job_file_readable(job=job, user=request.user):
            raise PermissionDenied("Only the user who started this job and managers read its file.")
        if not job.file:
            raise NotFound("This job has no file (yet).")
        name = job.file.name.rsplit("/", 1)[-1]
        # Only the formats we write, by name; anything else is opaque bytes, never HTML/SVG.
        content_type = DOWNLOAD_TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream")
        return FileResponse(
            job.file.open("rb"), as_attachment=True, filename=name, content_type=content_type
        )
