"""The API root, and job endpoints: list, detail, per-row errors, cancel, produced file."""

from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from dashboard.errors import NotFound
from dashboard.filters import JobFilter
from dashboard.jobs.services import job_cancel, job_retry
from dashboard.roles import Role
from dashboard.selectors import job_file_readable, job_get, job_list

from .pagination import CursorPagination
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


class JobDetailApi(generics.RetrieveAPIView):
    serializer_class = JobSerializer

    def get_object(self):
        return job_get(job_id=self.kwargs["job_id"])


class JobErrorPagination(CursorPagination):
    ordering = "id"


class JobErrorListApi(generics.ListAPIView):
    serializer_class = JobErrorSerializer
    pagination_class = JobErrorPagination
    filter_backends = []

    def get_queryset(self):
        return job_get(job_id=self.kwargs["job_id"]).row_errors.all()


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
            (200, "application/octet-stream"): OpenApiResponse(
                description="The produced file, streamed."
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
