"""Frame endpoints of a version: list (by page, ids or source), add, update, delete, read one,
and query many by ids in the body. Each validates, then calls one service or selector."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard.api.pagination import keyset_cursor, keyset_page, page_size
from dashboard.api.responses import job_accepted
from dashboard.api.serializers import JobSerializer
from dashboard.roles import Role
from versions import selectors, services
from versions.projection import parse_projection, project

from .inputs import CURSOR, LIST_PAGE, PROJECTION, frame_ids_query, frames_from_body, validated
from .serializers import (
    DeletedSerializer,
    FrameQueryInputSerializer,
    FrameQueryResultSerializer,
    FramesAddedSerializer,
    FramesBodySerializer,
    FramesDeleteSerializer,
    FramesUpdatedSerializer,
    FramesUpdateSerializer,
)

QUERY_CHUNK = 1000  # ids per SQL `IN (...)`, well inside every database's parameter limit


class FrameListApi(APIView):
    @extend_schema(
        operation_id="versions_frames_list",
        parameters=[
            OpenApiParameter("projection", PROJECTION, description="e.g. id,sources.uri,meta.x"),
            OpenApiParameter("ids", str, description="comma-separated frame ids"),
            OpenApiParameter("source", str, description="URI pattern; * matches any run"),
            LIST_PAGE,
            CURSOR,
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request, version_id: str):
        version = selectors.version_get(version_id=version_id)
        ids = request.query_params.get("ids")
        projection = parse_projection(request.query_params.get("projection"))
        cursor = keyset_cursor(request)
        frames, has_more = selectors.frames_page(
            version=version,
            after=cursor.after,
            before=cursor.before,
            limit=page_size(request),
            ids=frame_ids_query(ids),
            source=request.query_params.get("source") or None,
        )
        # The cursor needs the ids even when the projection leaves them out.
        page = keyset_page(request, frames, key="id", cursor=cursor, has_more=has_more)
        page["results"] = [project(f, projection) for f in frames]
        return Response(page)

    @extend_schema(
        request=FramesBodySerializer,
        responses={
            200: FramesAddedSerializer,
            202: JobSerializer,
            409: OpenApiResponse(description="Published version"),
        },
    )
    def post(self, request, version_id: str):
        version = selectors.version_get(version_id=version_id)
        frames = frames_from_body(request.data)
        if len(frames) > services.FRAMES_SYNC_LIMIT:
            job = services.frames_add_start(version=version, frames=frames, user=request.user)
            return job_accepted(job, request)
        return Response(services.frames_add(version=version, frames=frames))

    @extend_schema(request=FramesUpdateSerializer, responses=FramesUpdatedSerializer)
    def patch(self, request, version_id: str):
        version = selectors.version_get(version_id=version_id)
        without = request.data.get("without_fields") if isinstance(request.data, dict) else None
        result = services.frames_update(
            version=version,
            frames=frames_from_body(request.data, FramesUpdateSerializer),
            without_fields=without,
        )
        return Response(result)


class FrameDeleteApi(APIView):
    @extend_schema(
        request=FramesDeleteSerializer,
        responses={
            200: DeletedSerializer,
            404: OpenApiResponse(description="Unknown ids (listed in `missing`): nothing deleted"),
            409: OpenApiResponse(description="Published version"),
        },
    )
    def post(self, request, version_id: str):
        version = selectors.version_get(version_id=version_id)
        data = validated(FramesDeleteSerializer, request.data)
        return Response(services.frames_delete(version=version, **data))


class FrameDetailApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("projection", PROJECTION)], responses=OpenApiTypes.OBJECT
    )
    def get(self, request, version_id: str, frame_id: str):
        version = selectors.version_get(version_id=version_id)
        frame = selectors.frame_get(version=version, frame_id=frame_id)
        return Response(project(frame, parse_projection(request.query_params.get("projection"))))


class FrameQueryApi(APIView):
    """POST versions/{id}/frames/query/: frames by many ids in the body (not the URL), in the
    order asked, with the ids the version does not hold (the seed's `get_frames_by_ids`).
    A read in a POST body: whoever may read frames may ask."""

    write_role = Role.VIEWER

    @extend_schema(
        operation_id="versions_frames_query_retrieve",
        responses=OpenApiTypes.OBJECT,
        description='The frame whose id is "query" (this path shadows frames/{frame_id}/).',
    )
    def get(self, request, version_id: str):
        """This path shadows `frames/{frame_id}/` for a frame whose id is "query": read it."""
        return FrameDetailApi().get(request, version_id=version_id, frame_id="query")

    @extend_schema(request=FrameQueryInputSerializer, responses=FrameQueryResultSerializer)
    def post(self, request, version_id: str):
        version = selectors.version_get(version_id=version_id)
        data = validated(FrameQueryInputSerializer, request.data)
        projection = parse_projection(data.get("projection"))
        ids = list(dict.fromkeys(data["ids"]))  # once each, in the order asked
        found: dict[str, dict] = {}
        for start in range(0, len(ids), QUERY_CHUNK):
            chunk = ids[start : start + QUERY_CHUNK]
            frames, _ = selectors.frames_page(version=version, ids=chunk, limit=len(chunk))
            found.update((frame["id"], frame) for frame in frames)
        return Response(
            {
                "results": [project(found[i], projection) for i in ids if i in found],
                "missing": [i for i in ids if i not in found],
            }
        )
