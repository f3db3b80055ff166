"""What the dataset, version and frame endpoints share: a body validated by its input
serializer, frames from a body, `?ids=`, the list parameters, and the get-or-create answer."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.response import Response

from dashboard.api.schema import PROJECTION_PATTERN
from dashboard.api.serializers import refuse_unknown
from dashboard.errors import Invalid

from .serializers import FramesBodySerializer

MAX_QUERY_IDS = 1000

LIST_PAGE = OpenApiParameter("page_size", int, description="1-1000")
PROJECTION = {"type": "string", "pattern": PROJECTION_PATTERN}
CURSOR = OpenApiParameter("cursor", str, description="from a page's `next` or `previous` link")


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


def created_or_found(serializer_class, instance, created: bool) -> Response:
    """A get-or-create answer: 201 with the new object, 200 with the one that was there."""
    return Response(
        serializer_class(instance).data,
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


def created_or_found_responses(serializer_class, conflict: str) -> dict:
    """What `created_or_found` answers, for `extend_schema`, with the 409 (`conflict`)."""
    return {
        201: serializer_class,
        200: serializer_class,
        409: OpenApiResponse(description=conflict),
    }
