"""Dataset endpoints: list, create, read, edit, delete, find by name, the typed metadata
schema, and the list of a dataset's data rows. Each validates, then calls one service or
selector."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
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
from dashboard.api.schema import WHITE
from dashboard.api.serializers import refuse_unknown
from dashboard.errors import Invalid, NotFound
from versions import selectors, services
from versions.metadata_schema import (
    MAX_FIELDS,
    MAX_NAME_LENGTH,
    MAX_OPTION_LENGTH,
    MAX_OPTIONS,
    TYPES,
    MetadataSchema,
)
from versions.row_filter import query_filter_q

from .inputs import CURSOR, LIST_PAGE, created_or_found, created_or_found_responses, validated
from .serializers import (
    DataRowSerializer,
    DatasetCreateSerializer,
    DatasetSerializer,
    DatasetUpdateSerializer,
    data_row_dict,
)

# A token of the tag language: a tag, `-tag`, or an operator (`__$` starts nothing else).
TAG_TOKEN_PATTERN = r"^([^_]|_([^_]|$)|__([^$]|$)|__\$(all|and|or|not)$)"


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
        responses=created_or_found_responses(DatasetSerializer, "Exists and raise_if_exists"),
    )
    def post(self, request):
        data = validated(DatasetCreateSerializer, request.data)
        dataset, created = services.dataset_create(**data, user=request.user)
        return created_or_found(DatasetSerializer, dataset, created)


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


class DatasetByNameApi(APIView):
    """GET datasets/by-name/{name}/: one dataset by its (unique) name, as the seed's
    `dataset_name=` arguments look it up."""

    @extend_schema(responses={200: DatasetSerializer, 404: OpenApiResponse(description="No such")})
    def get(self, request, name: str):
        dataset = selectors.dataset_list().filter(name=name).first()
        if dataset is None:
            raise NotFound(f"No dataset named {name!r}.")
        return Response(DatasetSerializer(dataset).data)


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
