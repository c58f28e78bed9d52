"""REST API v1: block and allow lists, and rule backtests, for the client's
tenant."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
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
from rules.lists import ENTITY_FIELDS, list_value
from rules.models import ListEntry

PAGE = 500
# Strict: str.isdigit() takes "²" and "١", which int() refuses or reads.
AFTER = re.compile(r"[0-9]{1,18}", re.ASCII)
AFTER_MAX = 10**18 - 1


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
            OpenApiParameter("entity_type", str, enum=list(ENTITY_FIELDS)),
            OpenApiParameter("value", str),
            OpenApiParameter(
                "after",
                {"type": "integer", "minimum": 0, "maximum": AFTER_MAX},
                description="Entries after this id.",
            ),
        ],
        responses={200: ListEntryOut(many=True)},
        operation_id="lists_list",
    )
    def get(self, request: Request) -> Response:
        entries = ListEntry.objects.filter(tenant_id=_tenant_id(request))
        params = _query(request)
        for name in ("kind", "entity_type"):
            if name in params:
                entries = entries.filter(**{name: params[name]})
        if "value" in params and "entity_type" in params:
            try:
                value = list_value(params["entity_type"], params["value"])
            except ValidationError:
                value = params["value"]  # cannot be on a list: matches nothing
            entries = entries.filter(value=value)
        if "after" in params:
            entries = entries.filter(pk__gt=int(params["after"]))
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


def _query(request: Request) -> dict[str, str]:
    """The list filters given, checked: 400 for a value outside its enum or
    format (an empty one included)."""
    allowed = {
        "kind": set(ListEntry.Kind.values),
        "entity_type": set(ENTITY_FIELDS),
    }
    params = {k: str(v) for k, v in request.query_params.items()}
    errors = {
        name: [f"One of {sorted(values)}."]
        for name, values in allowed.items()
        if name in params and params[name] not in values
    }
    unknown = set(request.query_params) - {"kind", "entity_type", "value", "after"}
    if unknown:
        errors["non_field_errors"] = [f"Unknown parameters: {sorted(unknown)}."]
    for name, value in params.items():
        if "\x00" in value:
            errors.setdefault(name, ["No NUL characters."])
    if "after" in params and not AFTER.fullmatch(params["after"]):
        errors["after"] = [f"An entry id: 0 to {AFTER_MAX} in ASCII digits."]
    if errors:
        raise serializers.ValidationError(errors)
    return params


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
