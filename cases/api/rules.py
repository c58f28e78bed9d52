"""REST API v1: block and allow lists, and rule backtests, for the client's
tenant."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.authentication import request_client
from cases.api.views import json_object
from cases.schemas import BacktestIn, ListEntryIn
from cases.services.backtest import rule_backtest
from cases.services.rules import list_entry_add, list_entry_remove
from rules.lists import list_value
from rules.models import ListEntry

PAGE = 500


class ListEntryOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    entity_type = serializers.CharField()
    value = serializers.CharField(
        help_text="Normalised: e-mails lower case, IPs as CIDR."
    )
    reason = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    added_by = serializers.CharField()
    created_at = serializers.DateTimeField()


class BacktestOut(serializers.Serializer):
    days = serializers.IntegerField()
    orders = serializers.IntegerField()
    hits = serializers.IntegerField()
    fraud = serializers.IntegerField()
    legitimate = serializers.IntegerField()
    unlabelled = serializers.IntegerField()
    amount = serializers.FloatField()
    errors = serializers.IntegerField()  # type: ignore[assignment]
    first_error = serializers.CharField()
    by_model_decision = serializers.DictField(child=serializers.IntegerField())
    overlap = serializers.ListField(child=serializers.DictField())
    samples = serializers.ListField(child=serializers.DictField())
    seconds = serializers.FloatField()


def _actor(request: Request) -> str:
    return f"client:{request_client(request).name}"


def _tenant_id(request: Request) -> int:
    return request_client(request).tenant_id


class ListEntryListCreateApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=["block", "allow"]),
            OpenApiParameter("entity_type", str),
            OpenApiParameter("value", str),
            OpenApiParameter("after", int, description="Entries after this id."),
        ],
        responses={200: ListEntryOut(many=True)},
        operation_id="lists_list",
    )
    def get(self, request: Request) -> Response:
        entries = ListEntry.objects.filter(tenant_id=_tenant_id(request))
        params = request.query_params
        for name in ("kind", "entity_type"):
            if params.get(name):
                entries = entries.filter(**{name: params[name]})
        if params.get("value") and params.get("entity_type"):
            entries = entries.filter(
                value=list_value(params["entity_type"], params["value"])
            )
        after = params.get("after", "")
        if after.isdigit():
            entries = entries.filter(pk__gt=int(after))
        page = entries.order_by("id")[:PAGE]
        return Response(ListEntryOut(page, many=True).data)

    @extend_schema(
        request=ListEntryIn,
        responses={201: ListEntryOut, 200: ListEntryOut},
        operation_id="lists_create",
    )
    def post(self, request: Request) -> Response:
        data = ListEntryIn.model_validate(json_object(request.data))
        entry, created = list_entry_add(
            _tenant_id(request), actor=_actor(request), **data.model_dump()
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(ListEntryOut(entry).data, status=code)


class ListEntryDeleteApi(APIView):
    @extend_schema(responses={204: None}, operation_id="lists_delete")
    def delete(self, request: Request, entry_id: int) -> Response:
        entry = get_object_or_404(ListEntry, pk=entry_id, tenant_id=_tenant_id(request))
        list_entry_remove(entry, actor=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RuleBacktestApi(APIView):
    @extend_schema(
        request=BacktestIn, responses={200: BacktestOut}, operation_id="rules_backtest"
    )
    def post(self, request: Request) -> Response:
        data = BacktestIn.model_validate(json_object(request.data))
        result = rule_backtest(_tenant_id(request), data.expression, days=data.days)
        return Response(result.as_dict())
