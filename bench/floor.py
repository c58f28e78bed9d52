"""The floor: the cheapest honest intake, to compare the real one against.

Same server, middleware, DRF stack, token authentication, JSON parser and
payload validation (`OrderIn`) as `POST /api/v1/orders/`, then one INSERT of
the Order and a small response. No history, features, scoring, SHAP or case.
"""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.models import Order
from cases.schemas import OrderIn


class FloorOrderCreateApi(APIView):
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected a JSON object."]}
            )
        payload = OrderIn.model_validate(request.data)
        order = Order.objects.create(
            client=request.auth,
            tenant_id=request.auth.tenant_id,
            **payload.model_fields_for_db(),
        )
        return Response(
            {"order_id": order.order_id, "id": order.pk},
            status=status.HTTP_201_CREATED,
        )
