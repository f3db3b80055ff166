"""The audit trail under /api/v1/: `GET events/` (managers), newest first, cursor-paginated,
filtered by type, project, dataset, actor and time. The event shape is `event_payload`'s."""

import re

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers

from dashboard.errors import Invalid
from dashboard.events import EVENT_TYPES, event_payload, events_list
from dashboard.roles import Role

from .pagination import CursorPagination
from .schema import WHITE, WS

FILTERS = ("type", "project", "dataset", "actor", "since", "until")
WHEN = {"type": "string", "anyOf": [{"format": "date-time"}, {"maxLength": 0}]}
_TYPE = "(?:" + "|".join(re.escape(t) for t in EVENT_TYPES) + ")"
_SEP = f"[{WHITE},]"
# Known types, comma-separated (blanks and empty items aside); a blank value filters nothing.
TYPES_PATTERN = f"^{WS}*$|^{_SEP}*{_TYPE}(?:{WS}*,{_SEP}*{_TYPE})*{_SEP}*$"


class EventActorSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    username = serializers.CharField()


class EventObjectSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.CharField()


class EventSerializer(serializers.Serializer):
    """Read-only: the event as webhooks receive it."""

    id = serializers.CharField()
    type = serializers.CharField()
    at = serializers.DateTimeField()
    actor = EventActorSerializer(allow_null=True)
    project = serializers.CharField(allow_null=True)
    dataset = serializers.CharField(allow_null=True)
    object = EventObjectSerializer()
    data = serializers.DictField()

    def to_representation(self, instance):
        return event_payload(instance)


class EventQueryInputSerializer(serializers.Serializer):
    """The list's query parameters (paging ones aside)."""

    type = serializers.CharField(required=False, max_length=2000)
    project = serializers.CharField(required=False, max_length=26)
    dataset = serializers.CharField(required=False, max_length=26)
    actor = serializers.CharField(required=False, max_length=150)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


class EventPagination(CursorPagination):
    ordering = "-id"


@extend_schema(
    parameters=[
        OpenApiParameter(
            "type",
            {"type": "string", "maxLength": 2000, "pattern": TYPES_PATTERN},
            description="Event types, comma-separated.",
        ),
        OpenApiParameter("project", {"type": "string", "maxLength": 26}),
        OpenApiParameter("dataset", {"type": "string", "maxLength": 26}),
        OpenApiParameter(
            "actor", {"type": "string", "maxLength": 150}, description="A user id or username."
        ),
        OpenApiParameter("since", WHEN, description="ISO 8601; inclusive (empty: none)."),
        OpenApiParameter("until", WHEN, description="ISO 8601; exclusive (empty: none)."),
    ]
)
class EventListApi(generics.ListAPIView):
    """GET /api/v1/events/: the audit trail (managers)."""

    read_role = Role.MANAGER
    serializer_class = EventSerializer
    pagination_class = EventPagination
    filter_backends: list = []

    def get_queryset(self):
        query = self.request.query_params
        # A blank filter filters nothing (as one left out).
        given = {name: query[name] for name in FILTERS if query.get(name, "").strip()}
        params = EventQueryInputSerializer(data=given)
        params.is_valid(raise_exception=True)
        clean = params.validated_data
        types = [t.strip() for t in clean.get("type", "").split(",") if t.strip()]
        if "type" in clean and not types:
            raise Invalid("Event types, comma-separated.", field="type")
        return events_list(
            types=types,
            project=clean.get("project"),
            dataset=clean.get("dataset"),
            actor=clean.get("actor"),
            since=clean.get("since"),
            until=clean.get("until"),
        )
