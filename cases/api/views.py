"""REST API v1: one APIView per operation."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.authentication import request_client
from cases.api.idempotency import KEY_PATTERN, MAX_KEY_LENGTH, IdempotentMixin
from cases.api.output import (
    case_output,
    label_output,
    order_fields_output,
    order_result_output,
)
from cases.models import Case, Label, Order
from cases.schemas import OrderBatchIn, OrderIn, OutcomeIn
from cases.selectors import case_get_for_client, order_get_for_client, order_labels
from cases.services.intake import IntakeResult, orders_ingest
from cases.services.outcomes import outcome_record
from cases.services.scoring import order_score_explained
from models_ml.models import Score

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": KEY_PATTERN,
    },
    OpenApiParameter.HEADER,
    required=False,
    description=(
        f"Up to {MAX_KEY_LENGTH} characters, no control characters (else 400). "
        "The first response to a key is stored and replayed byte for byte "
        "(header `Idempotent-Replayed: true`); the same key with another body "
        "or on another endpoint is 422; while the first request with the key "
        "is still running, 409 (retry later). A request that failed with a "
        "5xx, or whose process died, does not keep its key: retry it with the "
        "same key."
    ),
)


class ReasonOut(serializers.Serializer):
    feature = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    contribution = serializers.FloatField(help_text="Log-odds.")
    text = serializers.CharField()


class RuleReasonOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["rule", "list"])
    action = serializers.ChoiceField(choices=["allow", "decline", "review", "boost"])
    id = serializers.IntegerField(help_text="The rule's or the list entry's id.")
    name = serializers.CharField(required=False, help_text="Rules only.")
    list = serializers.ChoiceField(choices=["block", "allow"], required=False)
    entity_type = serializers.CharField(required=False, help_text="Lists only.")
    text = serializers.CharField()
    decided = serializers.BooleanField(
        help_text="This rule or entry set the decision (others only matched)."
    )


class OrderResultOut(serializers.Serializer):
    order_id = serializers.CharField()
    risk_score = serializers.FloatField(allow_null=True)
    decision = serializers.ChoiceField(choices=Score.Decision.choices)
    case_id = serializers.IntegerField(allow_null=True)
    model_version = serializers.IntegerField(allow_null=True)
    reasons = ReasonOut(many=True, allow_null=True)
    rule_reasons = RuleReasonOut(many=True)
    created = serializers.BooleanField()


class LabelOut(serializers.Serializer):
    id = serializers.IntegerField()
    value = serializers.ChoiceField(choices=["fraud", "legitimate"])
    # The label's source; DRF's metaclass moves declared fields off the class,
    # so this does not shadow Field.source at run time as the stubs assume.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=Label.Source.values
    )
    reasons = serializers.ListField(child=serializers.CharField())
    note = serializers.CharField(allow_blank=True)
    known_at = serializers.DateTimeField()


class CaseOut(serializers.Serializer):
    id = serializers.IntegerField()
    order_id = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.FloatField()
    queue_reason = serializers.CharField()
    selection_probability = serializers.FloatField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    labels = LabelOut(many=True)


class OrderCreateApi(IdempotentMixin, APIView):
    @extend_schema(
        request=OrderIn,
        responses={201: OrderResultOut, 200: OrderResultOut},
        parameters=[IDEMPOTENCY_HEADER],
        operation_id="orders_create",
    )
    def post(self, request: Request) -> Response:
        payload = OrderIn.model_validate(json_object(request.data))
        (result,) = orders_ingest(request_client(request), [payload], explain_all=True)
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(order_result_output(result), status=code)


class OrderBatchOut(serializers.Serializer):
    results = OrderResultOut(many=True)


class OrderBatchCreateApi(IdempotentMixin, APIView):
    @extend_schema(
        request=OrderBatchIn,
        responses={200: OrderBatchOut},
        parameters=[IDEMPOTENCY_HEADER],
        operation_id="orders_batch_create",
    )
    def post(self, request: Request) -> Response:
        batch = OrderBatchIn.model_validate(json_object(request.data))
        results = orders_ingest(
            request_client(request), batch.orders, explain_all=False
        )
        return Response({"results": [order_result_output(r) for r in results]})


class OrderDetailOut(serializers.Serializer):
    order = serializers.DictField()
    score = OrderResultOut()
    labels = LabelOut(many=True)


class OrderDetailApi(APIView):
    @extend_schema(responses={200: OrderDetailOut}, operation_id="orders_retrieve")
    def get(self, request: Request, order_id: str) -> Response:
        order = order_get_for_client(request_client(request), order_id)
        score = order_score_explained(order)
        return Response(
            {
                "order": order_fields_output(order),
                "score": order_result_output(_result(order, score)),
                "labels": [label_output(label) for label in order_labels(order)],
            }
        )


class OutcomeCreateApi(IdempotentMixin, APIView):
    @extend_schema(
        request=OutcomeIn,
        responses={201: LabelOut, 200: LabelOut},
        parameters=[IDEMPOTENCY_HEADER],
        operation_id="orders_outcomes_create",
    )
    def post(self, request: Request, order_id: str) -> Response:
        order = order_get_for_client(request_client(request), order_id)
        outcome = OutcomeIn.model_validate(json_object(request.data))
        label, created = outcome_record(request_client(request), order, outcome)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(label_output(label), status=code)


class CaseDetailApi(APIView):
    @extend_schema(responses={200: CaseOut}, operation_id="cases_retrieve")
    def get(self, request: Request, case_id: int) -> Response:
        case = case_get_for_client(request_client(request), case_id)
        return Response(case_output(case))


def json_object(data: Any) -> dict:
    if not isinstance(data, dict):
        raise serializers.ValidationError(
            {"non_field_errors": ["Expected a JSON object."]}
        )
    return data


def _result(order: Order, score: Score | None) -> IntakeResult:
    case = Case.objects.filter(order=order).first()
    return IntakeResult(order, score, case, created=False)
