"""Review endpoints: the labels list, the review queue, accept / reject (one and many), and a
row as a reviewer sees it. Each validates its input here, then calls one service or selector.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard.api.serializers import InputSerializer
from dashboard.roles import Role

from .. import services
from ..models import REVIEW_REASON_MAX_LENGTH, Label
from ..review_selectors import label_list, review_item, row_detail
from ..selectors import project_get
from ..services.reviews import REVIEW_BULK_MAX
from .fields import Int32Field, StrictCharField
from .label_serializers import LabelSerializer, RowAndBatchRefs
from .views import ERRORS, OldestFirst, query_given, request_body, valid

# --- Shapes ---------------------------------------------------------------------------------


class ReviewItemSerializer(RowAndBatchRefs):
    """`{label, data_row, batch, other_labels, agreement, expires_at}`."""

    label = LabelSerializer()
    other_labels = LabelSerializer(many=True)
    agreement = serializers.FloatField(allow_null=True)
    expires_at = serializers.DateTimeField()


class RowDetailSerializer(RowAndBatchRefs):
    """`{data_row, batch, state, labels_required, labels, agreement, escalated, gold}`."""

    state = serializers.ChoiceField(choices=["queued", "reserved", "in_review", "done"])
    labels_required = serializers.IntegerField()
    labels = LabelSerializer(many=True)
    agreement = serializers.FloatField(allow_null=True)
    escalated = serializers.BooleanField()
    gold = serializers.JSONField(allow_null=True)


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class GivenLabelIdField(serializers.JSONField):
    """A label id as the request gave it (a number or a string)."""


class FailedLabelSerializer(serializers.Serializer):
    label = GivenLabelIdField(help_text="The label id as given")
    reason = serializers.CharField()


class BulkReviewResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(required=False, help_text="With decision accept")
    rejected = serializers.IntegerField(required=False, help_text="With decision reject")
    failed = FailedLabelSerializer(many=True)


# --- Inputs ---------------------------------------------------------------------------------


def reason_field(**kwargs) -> StrictCharField:
    return StrictCharField(
        max_length=REVIEW_REASON_MAX_LENGTH,
        error_messages={
            "blank": "A rejection needs a reason.",
            "required": "A rejection needs a reason.",
            "max_length": f"At most {REVIEW_REASON_MAX_LENGTH} characters.",
        },
        **kwargs,
    )


class LabelQuerySerializer(serializers.Serializer):
    """The labels list's filters (other parameters, like the cursor, are left alone)."""

    status = serializers.ChoiceField(choices=Label.Status.choices, required=False)
    # An empty value filters nothing (as the other lists read `?x=`).
    author = serializers.CharField(
        required=False, allow_blank=True, max_length=150, help_text="A user id or username"
    )
    batch_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    data_row = serializers.CharField(required=False, allow_blank=True, max_length=64)


class RejectInputSerializer(InputSerializer):
    reason = reason_field()
    priority = Int32Field(
        required=False, allow_null=True, help_text="Re-queue at this priority (default: first)"
    )


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "oneOf": [{"type": "integer"}, {"type": "string", "minLength": 1, "maxLength": 64}]
        },
        "minItems": 1,
        "maxItems": REVIEW_BULK_MAX,
    }
)
class LabelIdsField(serializers.Field):
    def to_internal_value(self, data):
        if (
            not isinstance(data, list)
            or not data
            or not all(
                (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, str) and v)
                for v in data
            )
        ):
            raise serializers.ValidationError("Must be a non-empty list of label ids.")
        if len(data) > REVIEW_BULK_MAX:
            raise serializers.ValidationError(
                f"At most {REVIEW_BULK_MAX} labels at once; got {len(data)}."
            )
        if any(len(str(v)) > 64 for v in data):
            raise serializers.ValidationError("A label id is at most 64 characters.")
        return data


class BulkReviewInputSerializer(InputSerializer):
    label_ids = LabelIdsField()
    decision = serializers.ChoiceField(choices=Label.Decision.choices)
    reason = reason_field(required=False, allow_blank=True, default="")

    required_when = ("decision", Label.Decision.REJECT.value, ("reason",))

    def validate(self, attrs):
        if attrs["decision"] == Label.Decision.REJECT and not attrs.get("reason", "").strip():
            raise serializers.ValidationError({"reason": "A rejection needs a reason."})
        return attrs


# --- Views ----------------------------------------------------------------------------------

REVIEW_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(description="One's own label, or a label already decided."),
}


class LabelListApi(ListAPIView):
    """The project's labels (a labeler sees only their own)."""

    read_role = Role.LABELER
    serializer_class = LabelSerializer
    pagination_class = OldestFirst
    filter_backends: list = []

    def get_queryset(self):
        project = project_get(project_id=self.kwargs["project_id"])
        query = valid(LabelQuerySerializer, query_given(self.request))
        return label_list(project=project, user=self.request.user, **query)

    @extend_schema(parameters=[LabelQuerySerializer], responses={200: LabelSerializer(many=True)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReviewNextApi(APIView):
    write_role = Role.REVIEWER

    @extend_schema(
        request=None,
        responses={
            200: ReviewItemSerializer,
            204: OpenApiResponse(description="Nothing is left for you to review."),
            404: ERRORS[404],
        },
    )
    def post(self, request, project_id: str):
        project = project_get(project_id=project_id)
        label = services.review_next(project=project, user=request.user)
        if label is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(ReviewItemSerializer(review_item(label)).data)


class LabelAcceptApi(APIView):
    write_role = Role.REVIEWER

    @extend_schema(request=None, responses={200: LabelSerializer, **REVIEW_ERRORS})
    def post(self, request, project_id: str, label_id: str):
        project = project_get(project_id=project_id)
        valid(InputSerializer, request_body(request) or {})
        label = services.label_accept(project=project, label_id=label_id, user=request.user)
        return Response(LabelSerializer(label).data)


class LabelRejectApi(APIView):
    write_role = Role.REVIEWER

    @extend_schema(request=RejectInputSerializer, responses={200: LabelSerializer, **REVIEW_ERRORS})
    def post(self, request, project_id: str, label_id: str):
        project = project_get(project_id=project_id)
        body = valid(RejectInputSerializer, request_body(request))
        label = services.label_reject(project=project, label_id=label_id, user=request.user, **body)
        return Response(LabelSerializer(label).data)


class LabelsReviewApi(APIView):
    write_role = Role.REVIEWER

    @extend_schema(
        request=BulkReviewInputSerializer,
        responses={200: BulkReviewResultSerializer, 400: ERRORS[400], 404: ERRORS[404]},
    )
    def post(self, request, project_id: str):
        project = project_get(project_id=project_id)
        body = valid(BulkReviewInputSerializer, request_body(request))
        return Response(services.labels_review(project=project, user=request.user, **body))


class RowDetailApi(APIView):
    read_role = Role.REVIEWER

    @extend_schema(responses={200: RowDetailSerializer, 404: ERRORS[404]})
    def get(self, request, project_id: str, data_row_id: str):
        project = project_get(project_id=project_id)
        return Response(
            RowDetailSerializer(row_detail(project=project, data_row_id=data_row_id)).data
        )
