"""Version endpoints: list and create a dataset's versions, find the current one or one by
name, read, edit, delete, commit, publish, snapshot, stats, metadata, mask labels and diff.
Each validates, then calls one service or selector."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard.api.pagination import cursor_response, page_schema
from dashboard.api.responses import job_accepted
from dashboard.api.serializers import JobSerializer, query_bool
from dashboard.errors import Invalid
from versions import selectors, services

from .inputs import created_or_found, created_or_found_responses, validated
from .serializers import (
    DiffSerializer,
    MaskLabelSerializer,
    SnapshotSerializer,
    StatsSerializer,
    VersionCreateSerializer,
    VersionSerializer,
    VersionUpdateSerializer,
    metadata_body,
    version_stats_shape,
)


class VersionListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("only_published", bool), OpenApiParameter("only_draft", bool)],
        responses=page_schema(VersionSerializer, name="PaginatedVersionList"),
    )
    def get(self, request, dataset_id: str):
        dataset = selectors.dataset_get(dataset_id=dataset_id)
        versions = selectors.version_list(
            dataset=dataset,
            only_published=query_bool(request, "only_published"),
            only_draft=query_bool(request, "only_draft"),
        )
        return cursor_response(
            request, versions, VersionSerializer, ordering="-updated_at", view=self
        )

    @extend_schema(
        request=VersionCreateSerializer,
        responses=created_or_found_responses(
            VersionSerializer, "Draft exists and raise_if_exists, or a draft parent"
        ),
    )
    def post(self, request, dataset_id: str):
        dataset = selectors.dataset_get(dataset_id=dataset_id)
        data = validated(VersionCreateSerializer, request.data)
        parent = selectors.version_parent_resolve(dataset=dataset, ref=data.pop("parent"))
        version, created = services.version_create(
            dataset=dataset, parent=parent, user=request.user, **data
        )
        return created_or_found(VersionSerializer, version, created)


class VersionCurrentApi(APIView):
    @extend_schema(responses=VersionSerializer)
    def get(self, request, dataset_id: str):
        dataset = selectors.dataset_get(dataset_id=dataset_id)
        return Response(VersionSerializer(selectors.version_current(dataset=dataset)).data)


class VersionByNameApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("raise_on_multiple", bool)],
        responses={
            200: VersionSerializer,
            409: OpenApiResponse(
                description="Several versions have this name and raise_on_multiple"
            ),
        },
    )
    def get(self, request, dataset_id: str, name: str):
        dataset = selectors.dataset_get(dataset_id=dataset_id)
        version = selectors.version_by_name(
            dataset=dataset, name=name, raise_on_multiple=query_bool(request, "raise_on_multiple")
        )
        return Response(VersionSerializer(version).data)


class VersionDetailApi(APIView):
    @extend_schema(responses=VersionSerializer)
    def get(self, request, version_id: str):
        return Response(VersionSerializer(selectors.version_get(version_id=version_id)).data)

    @extend_schema(request=VersionUpdateSerializer, responses=VersionSerializer)
    def patch(self, request, version_id: str):
        version = selectors.version_get(version_id=version_id)
        data = validated(VersionUpdateSerializer, request.data, partial=True)
        return Response(VersionSerializer(services.version_update(version=version, **data)).data)

    @extend_schema(
        parameters=[OpenApiParameter("force", bool)],
        responses={204: None, 409: OpenApiResponse(description="Published and not force")},
    )
    def delete(self, request, version_id: str):
        version = selectors.version_get(version_id=version_id)
        services.version_remove(version=version, force=query_bool(request, "force"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionCommitApi(APIView):
    @extend_schema(request=None, responses={200: VersionSerializer, 202: JobSerializer})
    def post(self, request, version_id: str):
        version = selectors.version_get(version_id=version_id)
        result = services.version_commit_or_start(version=version, user=request.user)
        if not isinstance(result, type(version)):
            return job_accepted(result, request)
        return Response(VersionSerializer(result).data)


class VersionPublishApi(APIView):
    @extend_schema(
        request=None,
        responses={200: VersionSerializer, 409: OpenApiResponse(description="Already published")},
    )
    def post(self, request, version_id: str):
        version = services.version_publish(version=selectors.version_get(version_id=version_id))
        return Response(VersionSerializer(version).data)


class VersionSnapshotApi(APIView):
    @extend_schema(
        request=SnapshotSerializer,
        responses={201: VersionSerializer, 409: OpenApiResponse(description="Already published")},
    )
    def post(self, request, version_id: str):
        version = selectors.version_get(version_id=version_id)
        data = validated(SnapshotSerializer, request.data)
        child = services.version_snapshot(version=version, user=request.user, **data)
        return Response(VersionSerializer(child).data, status=status.HTTP_201_CREATED)


class VersionStatsApi(APIView):
    @extend_schema(responses=StatsSerializer)
    def get(self, request, version_id: str):
        return Response(version_stats_shape(selectors.version_get(version_id=version_id)))


class VersionMetadataApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, version_id: str):
        return Response(selectors.version_get(version_id=version_id).metadata)

    @extend_schema(request={"application/json": metadata_body()}, responses=OpenApiTypes.OBJECT)
    def put(self, request, version_id: str):
        if request.FILES or not isinstance(request.data, dict) or hasattr(request.data, "getlist"):
            # A form body is a QueryDict of lists (and maybe files), not the JSON object.
            raise Invalid("Send the metadata as a JSON object.", field="metadata")
        version = services.version_set_metadata(
            version=selectors.version_get(version_id=version_id), metadata=request.data
        )
        return Response(version.metadata)


class VersionMaskLabelsApi(APIView):
    @extend_schema(responses=MaskLabelSerializer(many=True))
    def get(self, request, version_id: str):
        version = selectors.version_get(version_id=version_id)
        return Response(version.metadata.get("mask_labels", []))

    @extend_schema(request=MaskLabelSerializer(many=True), responses=MaskLabelSerializer(many=True))
    def put(self, request, version_id: str):
        version = services.version_set_mask_labels(
            version=selectors.version_get(version_id=version_id), mask_labels=request.data
        )
        return Response(version.metadata["mask_labels"])


class VersionDiffApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("against", {"type": "string", "minLength": 1}, required=True),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 0, "maximum": 100_000},
                description="ids per list (default 1000)",
            ),
        ],
        responses=DiffSerializer,
    )
    def get(self, request, version_id: str):
        version = selectors.version_get(version_id=version_id)
        against = request.query_params.get("against")
        if not against:
            raise Invalid("Give the version to compare with.", field="against")
        other = selectors.version_get(version_id=against)
        limit = request.query_params.get("limit", "1000")
        if not (limit.isascii() and limit.isdigit()) or int(limit) > 100_000:
            raise Invalid("Must be an integer from 0 to 100000.", field="limit")
        return Response(selectors.version_diff(newer=version, older=other, limit=int(limit)))
