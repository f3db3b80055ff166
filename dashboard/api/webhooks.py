"""Webhooks under /api/v1/ (managers): CRUD (the secret only in the create answer), a test
ping, the delivery log and redeliver. Views validate the body's shape and call one service."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard.events import ALL_EVENTS, EVENT_TYPES
from dashboard.models import Delivery, Webhook
from dashboard.roles import Role
from dashboard.webhooks import (
    SECRET_MAX,
    SECRET_MIN,
    URL_MAX,
    delivery_get,
    delivery_redeliver,
    webhook_create,
    webhook_delete,
    webhook_deliveries,
    webhook_get,
    webhook_list,
    webhook_test,
    webhook_update,
)

from .pagination import CursorPagination
from .serializers import InputSerializer, refuse_unknown

ERRORS = {
    400: OpenApiResponse(description="Invalid input, naming the field."),
    404: OpenApiResponse(description="Unknown webhook or delivery."),
}


class WebhookSerializer(serializers.ModelSerializer):
    project = serializers.SerializerMethodField()
    events = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "project", "active", "created_at", "updated_at"]
        read_only_fields = fields

    def get_project(self, webhook) -> str | None:
        return webhook.project or None


class WebhookCreatedSerializer(WebhookSerializer):
    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


# The URLs the schema promises are taken (a plain host name, IPv4 address or localhost, a port,
# an ASCII path); webhook_url_check takes some more (IPv6, dotted host names ending in `.`).
_LABEL = "[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?"
_OCTET = "(?:0|[1-9][0-9]?)"
_HOST = f"(?:{_LABEL}\\.){{1,4}}[a-z]{{2,12}}|localhost|(?:{_OCTET}\\.){{3}}{_OCTET}"
URL_PATTERN = f"^https?://(?:{_HOST})(?::[1-9][0-9]{{0,3}})?(?:/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?$"
URL_SCHEMA = {
    "type": "string",
    "pattern": URL_PATTERN,
    "maxLength": URL_MAX,
    "description": "An http:// or https:// URL (ASCII, no credentials)",
}
EVENTS_SCHEMA = {
    "type": "array",
    "items": {"type": "string", "enum": [*EVENT_TYPES, ALL_EVENTS]},
    "minItems": 1,
    "maxItems": 100,
}


def schema_field(field_class: type, spec: dict) -> type:
    """A subclass of `field_class` that the schema describes as `spec`."""
    return extend_schema_field(spec)(type(field_class.__name__, (field_class,), {}))


UrlField = schema_field(serializers.CharField, URL_SCHEMA)
EventsField = schema_field(serializers.ListField, EVENTS_SCHEMA)


class WebhookInputSerializer(InputSerializer):
    url = UrlField(max_length=URL_MAX)
    events = EventsField(child=serializers.CharField(max_length=64), max_length=100)
    project = serializers.CharField(
        max_length=26, required=False, allow_null=True, allow_blank=True
    )
    active = serializers.BooleanField(required=False)
    secret = serializers.CharField(
        min_length=SECRET_MIN, max_length=SECRET_MAX, required=False, trim_whitespace=False
    )


class WebhookUpdateInputSerializer(WebhookInputSerializer):
    url = UrlField(max_length=URL_MAX, required=False)
    events = EventsField(child=serializers.CharField(max_length=64), max_length=100, required=False)


class DeliveryEventSerializer(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.CharField()


class DeliverySerializer(serializers.ModelSerializer):
    event = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event",
            "status",
            "attempts",
            "response_status",
            "duration_ms",
            "error",
            "created_at",
            "next_attempt_at",
        ]
        read_only_fields = fields

    @extend_schema_field(DeliveryEventSerializer)
    def get_event(self, delivery) -> dict:
        return {"id": delivery.event_id, "type": delivery.event.type}


def _body(request, serializer_class) -> dict:
    """The validated body: unknown fields and wrong JSON types are a 400 naming the field."""
    refuse_unknown(request.data, serializer_class)
    body = serializer_class(
        data=request.data, partial=serializer_class is not WebhookInputSerializer
    )
    body.is_valid(raise_exception=True)
    return {name: request.data[name] for name in body.validated_data}


class WebhookListApi(generics.ListAPIView):
    read_role = Role.MANAGER
    serializer_class = WebhookSerializer
    filter_backends: list = []

    def get_queryset(self):
        return webhook_list()

    @extend_schema(
        request=WebhookInputSerializer, responses={201: WebhookCreatedSerializer, **ERRORS}
    )
    def post(self, request):
        webhook = webhook_create(**_body(request, WebhookInputSerializer), user=request.user)
        return Response(WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED)


class WebhookDetailApi(APIView):
    read_role = Role.MANAGER

    @extend_schema(responses={200: WebhookSerializer, 404: ERRORS[404]})
    def get(self, request, webhook_id: str):
        return Response(WebhookSerializer(webhook_get(webhook_id=webhook_id)).data)

    @extend_schema(
        request=WebhookUpdateInputSerializer, responses={200: WebhookSerializer, **ERRORS}
    )
    def patch(self, request, webhook_id: str):
        webhook = webhook_get(webhook_id=webhook_id)
        webhook = webhook_update(webhook=webhook, **_body(request, WebhookUpdateInputSerializer))
        return Response(WebhookSerializer(webhook).data)

    @extend_schema(responses={204: None, 404: ERRORS[404]})
    def delete(self, request, webhook_id: str):
        webhook_delete(webhook=webhook_get(webhook_id=webhook_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookTestApi(APIView):
    read_role = Role.MANAGER

    @extend_schema(request=None, responses={202: DeliverySerializer, 404: ERRORS[404]})
    def post(self, request, webhook_id: str):
        delivery = webhook_test(webhook=webhook_get(webhook_id=webhook_id), user=request.user)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryPagination(CursorPagination):
    ordering = "-id"


class DeliveryListApi(generics.ListAPIView):
    read_role = Role.MANAGER
    serializer_class = DeliverySerializer
    pagination_class = DeliveryPagination
    filter_backends: list = []

    def get_queryset(self):
        return webhook_deliveries(webhook=webhook_get(webhook_id=self.kwargs["webhook_id"]))


class DeliveryRedeliverApi(APIView):
    read_role = Role.MANAGER

    @extend_schema(
        request=None,
        responses={202: DeliverySerializer, 404: ERRORS[404]},
    )
    def post(self, request, webhook_id: str, delivery_id: str):
        webhook = webhook_get(webhook_id=webhook_id)
        delivery = delivery_redeliver(
            delivery=delivery_get(webhook=webhook, delivery_id=delivery_id)
        )
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
