"""Dataset, data-row and version endpoints: validate the request, call one service or
selector, shape the answer."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard.api.pagination import (
    cursor_response,
    keyset_cursor,
    keyset_page,
    page_schema,
    page_size,
)
from dashboard.api.responses import job_accepted
from dashboard.api.schema import PROJECTION_ITEM_PATTERN, PROJECTION_PATTERN, WHITE
from dashboard.api.serializers import JobSerializer, query_bool, refuse_unknown
from dashboard.errors import Invalid
from versions import selectors, services
from versions.metadata_schema import MetadataSchema
from versions.projection import parse_projection, project
from versions.row_filter import query_filter_q

from .serializers import (
    DataRowSerializer,
    DatasetCreateSerializer,
    DatasetSerializer,
    DatasetUpdateSerializer,
    DeletedSerializer,
    DiffSerializer,
    FramesAddedSerializer,
    FramesBodySerializer,
    FramesDeleteSerializer,
    FramesUpdatedSerializer,
    FramesUpdateSerializer,
    MaskLabelSerializer,
    SnapshotSerializer,
    StatsSerializer,
    VersionCreateSerializer,
    VersionSerializer,
    VersionUpdateSerializer,
    data_row_dict,
    metadata_body,
    version_stats_shape,
)

# A token of the tag language: a tag, `-tag`, or an operator (`__$` starts nothing else).
TAG_TOKEN_PATTERN = r"^([^_]|_([^_]|$)|__([^$]|$)|__\$(all|and|or|not)$)"


MAX_QUERY_IDS = 1000


def frame_ids_query(raw: str | None) -> list[str] | None:
    """`?ids=a,b`: at most MAX_QUERY_IDS ids (a page's worth), else a 400 naming `ids`."""
    if not raw:
        return None
    ids = [i for i in raw.split(",") if i]
    if len(ids) > MAX_QUERY_IDS:
        raise Invalid(f"At most {MAX_QUERY_IDS:,} ids per request; got {len(ids):,}.", field="ids")
    return ids


def validated(serializer_class, data, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def frames_from_body(data, fields=FramesBodySerializer) -> list:
    """`{"frames": [...]}` (no other field than `fields` has) or a bare array."""
    refuse_unknown(data, fields)
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("frames"), list):
        return data["frames"]
    raise Invalid('Send {"frames": [...]} or an array of frames.', field="frames")


LIST_PAGE = OpenApiParameter("page_size", int, description="1-1000")
PROJECTION = {"type": "string", "pattern": PROJECTION_PATTERN}
CURSOR = OpenApiParameter("cursor", str, description="from a page's `next` or `previous` link")


# ---------------------------------------------------------------- datasets


class DatasetListApi(APIView):
    @extend_schema(
        operation_id="datasets_list",
        parameters=[
            OpenApiParameter(
                "tags",
                {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "pattern": TAG_TOKEN_PATTERN},
                },
                style="form",
                explode=True,
                description=(
                    "Repeat for several. Plain tags OR-ed, -tag excludes, __$all/__$and AND the "
                    "following tags, __$or ORs them, __$not negates the next tag."
                ),
            )
        ],
        responses=page_schema(DatasetSerializer, name="PaginatedDatasetList"),
    )
    def get(self, request):
        datasets = selectors.dataset_list(tags=request.query_params.getlist("tags") or None)
        return cursor_response(
            request, datasets, DatasetSerializer, ordering="created_at", view=self
        )

    @extend_schema(
        request=DatasetCreateSerializer,
        responses={
            201: DatasetSerializer,
            200: DatasetSerializer,
            409: OpenApiResponse(description="Exists and raise_if_exists"),
        },
    )
    def post(self, request):
        data = validated(DatasetCreateSerializer, request.data)
        dataset, created = services.dataset_create(**data, user=request.user)
        return Response(
            DatasetSerializer(dataset).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class DatasetDetailApi(APIView):
    @extend_schema(responses=DatasetSerializer)
    def get(self, request, dataset_id: str):
        return Response(DatasetSerializer(selectors.dataset_get(dataset_id=dataset_id)).data)

    @extend_schema(request=DatasetUpdateSerializer, responses=DatasetSerializer)
    def patch(self, request, dataset_id: str):
        dataset = selectors.dataset_get(dataset_id=dataset_id)
        data = validated(DatasetUpdateSerializer, request.data, partial=True)
        return Response(DatasetSerializer(services.dataset_update(dataset=dataset, **data)).data)

    @extend_schema(responses={204: None, 409: OpenApiResponse(description="Rows in use")})
    def delete(self, request, dataset_id: str):
        services.dataset_delete(dataset=selectors.dataset_get(dataset_id=dataset_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DataRowListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("global_key", str),
            OpenApiParameter(
                "metadata__KEY",
                str,
                description="any metadata key, with __in, __lt, __gt, __contains, __isnull; "
                "a field of the dataset's metadata schema compares by its type",
            ),
            LIST_PAGE,
            CURSOR,
        ],
        responses=page_schema(DataRowSerializer, name="PaginatedDataRowList"),
    )
    def get(self, request, dataset_id: str):
        dataset = selectors.dataset_get(dataset_id=dataset_id)
        limit, cursor = page_size(request), keyset_cursor(request)
        condition = query_filter_q(
            request.query_params, schema=MetadataSchema(dataset.metadata_schema)
        )
        version = selectors.version_for_reading(dataset=dataset)
        if version is None:
            return Response(keyset_page(request, [], key="id", cursor=cursor, has_more=False))
        rows = selectors.data_rows_of(version).filter(condition)
        if cursor.backward:
            rows = rows.filter(data_row_id__lt=cursor.key).order_by("-data_row_id")
        else:
            rows = rows.filter(data_row_id__gt=cursor.key).order_by("data_row_id")
        entries = list(rows[: limit + 1])
        page = entries[:limit][::-1] if cursor.backward else entries[:limit]
        body = keyset_page(
            request,
            DataRowSerializer([data_row_dict(e) for e in page], many=True).data,
            key="id",
            cursor=cursor,
            has_more=len(entries) > limit,
        )
        return Response(body)


# ---------------------------------------------------------------- versions


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
        responses={
            201: VersionSerializer,
            200: VersionSerializer,
            409: OpenApiResponse(description="Draft exists and raise_if_exists, or a draft parent"),
        },
    )
    def post(self, request, dataset_id: str):
        dataset = selectors.dataset_get(dataset_id=dataset_id)
        data = validated(VersionCreateSerializer, request.data)
        parent = selectors.version_parent_resolve(dataset=dataset, ref=data.pop("parent"))
        version, created = services.version_create(
            dataset=dataset, parent=parent, user=request.user, **data
        )
        return Response(
            VersionSerializer(version).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


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


# ---------------------------------------------------------------- frames


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
        from versions.projection import project

        version = selectors.version_get(version_id=version_id)
        frame = selectors.frame_get(version=version, frame_id=frame_id)
        return Response(project(frame, parse_projection(request.query_params.get("projection"))))


# ---------------------------------------------------------------- seed parity additions
# (imported here so that these additions stay one appended block)
from rest_framework import serializers  # noqa: E402

from dashboard.api.serializers import InputSerializer  # noqa: E402
from dashboard.errors import NotFound  # noqa: E402
from dashboard.roles import Role  # noqa: E402
from versions.metadata_schema import (  # noqa: E402
    MAX_FIELDS,
    MAX_NAME_LENGTH,
    MAX_OPTION_LENGTH,
    MAX_OPTIONS,
    TYPES,
)


class DatasetByNameApi(APIView):
    """GET datasets/by-name/{name}/: one dataset by its (unique) name, as the seed's
    `dataset_name=` arguments look it up."""

    @extend_schema(responses={200: DatasetSerializer, 404: OpenApiResponse(description="No such")})
    def get(self, request, name: str):
        dataset = selectors.dataset_list().filter(name=name).first()
        if dataset is None:
            raise NotFound(f"No dataset named {name!r}.")
        return Response(DatasetSerializer(dataset).data)


MAX_BODY_IDS = 10_000
QUERY_CHUNK = 1000  # ids per SQL `IN (...)`, well inside every database's parameter limit


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


# A metadata field's name: not blank, neither `$` nor `.`, no white space at either end.
METADATA_NAME_PATTERN = f"^[^$.{WHITE}](?:[^$.]*[^$.{WHITE}])?$"
# A field's default, by its type (null: none). An enum's default must be one of its own
# options, which a schema cannot state: the schema lets an enum have none.
METADATA_DEFAULTS = {
    "string": {"type": ["string", "null"]},
    "number": {"type": ["number", "null"]},
    "integer": {"type": ["integer", "null"], "minimum": -(2**63), "maximum": 2**63 - 1},
    "boolean": {"type": ["boolean", "null"]},
    "datetime": {"type": ["string", "null"], "format": "date-time"},
    "enum": {"type": "null"},
}
METADATA_FIELD_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_NAME_LENGTH,
            "pattern": METADATA_NAME_PATTERN,
            "description": "Unique in the schema; no `$` or `.`, no spaces at either end",
        },
        "type": {"type": "string", "enum": list(TYPES)},
        "default": {"description": "a value of the field's type (an enum: one of its options)"},
        "required": {"type": "boolean", "default": False},
        "options": {
            "type": ["array", "null"],
            "items": {"type": "string", "minLength": 1, "maxLength": MAX_OPTION_LENGTH},
            "minItems": 1,
            "maxItems": MAX_OPTIONS,
            "uniqueItems": True,
            "description": "the values of an enum (required for an enum, refused otherwise)",
        },
    },
    "required": ["name", "type"],
    "additionalProperties": False,
    "allOf": [
        {
            "if": {"properties": {"type": {"const": kind}}},
            "then": {
                "properties": {
                    "default": METADATA_DEFAULTS[kind],
                    "options": {"type": "array"} if kind == "enum" else {"type": "null"},
                },
                **({"required": ["options"]} if kind == "enum" else {}),
            },
        }
        for kind in TYPES
    ],
}
METADATA_SCHEMA = {
    "type": "object",
    "properties": {
        "fields": {"type": "array", "items": METADATA_FIELD_SCHEMA, "maxItems": MAX_FIELDS}
    },
    "required": ["fields"],
    "additionalProperties": False,
}


class DatasetMetadataSchemaApi(APIView):
    """GET, PUT datasets/{id}/metadata-schema/: the dataset's typed metadata fields. PUT
    replaces them; every later write of the dataset's rows converts and checks metadata
    against them (types, defaults, required)."""

    @extend_schema(responses={200: METADATA_SCHEMA})
    def get(self, request, dataset_id: str):
        dataset = selectors.dataset_get(dataset_id=dataset_id)
        return Response({"fields": dataset.metadata_schema or []})

    @extend_schema(
        request={"application/json": METADATA_SCHEMA},
        responses={200: METADATA_SCHEMA, 400: OpenApiResponse(description="A field is invalid")},
    )
    def put(self, request, dataset_id: str):
        dataset = selectors.dataset_get(dataset_id=dataset_id)
        body = request.data
        if not isinstance(body, dict) or "fields" not in body:
            raise Invalid('Send {"fields": [{"name", "type", …}, …]}.', field="fields")
        refuse_unknown(body, ("fields",))
        dataset = services.dataset_set_metadata_schema(
            dataset=dataset, fields=body["fields"], user=request.user
        )
        return Response({"fields": dataset.metadata_schema})
