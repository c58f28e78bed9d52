"""REST API v1: a client's decision webhooks."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.apis import json_object
from cases.authentication import request_client
from cases.models import WebhookEndpoint
from cases.schemas import WebhookIn
from cases.services.webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_deactivate,
    webhook_secret_rotate,
)


class WebhookOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.CharField())
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class WebhookSecretOut(WebhookOut):
    secret = serializers.CharField(help_text="Shown once: store it now.")


def _output(endpoint: WebhookEndpoint, secret: str | None = None) -> dict:
    data = WebhookOut(endpoint).data
    if secret is not None:
        data["secret"] = secret
    return data


def _actor(request: Request) -> str:
    return f"client:{request_client(request).name}"


class WebhookListCreateApi(APIView):
    @extend_schema(responses={200: WebhookOut(many=True)}, operation_id="webhooks_list")
    def get(self, request: Request) -> Response:
        endpoints = WebhookEndpoint.objects.filter(
            client=request_client(request), active=True
        )
        return Response([_output(e) for e in endpoints.order_by("id")])

    @extend_schema(
        request=WebhookIn,
        responses={201: WebhookSecretOut},
        operation_id="webhooks_create",
    )
    def post(self, request: Request) -> Response:
        data = WebhookIn.model_validate(json_object(request.data))
        endpoint, secret = webhook_endpoint_create(
            request_client(request), data.url, data.events, actor=_actor(request)
        )
        return Response(_output(endpoint, secret), status=status.HTTP_201_CREATED)


class WebhookDeleteApi(APIView):
    @extend_schema(responses={204: None}, operation_id="webhooks_delete")
    def delete(self, request: Request, webhook_id: int) -> Response:
        endpoint = get_object_or_404(
            WebhookEndpoint, pk=webhook_id, client=request_client(request)
        )
        webhook_endpoint_deactivate(endpoint, actor=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateApi(APIView):
    @extend_schema(
        request=None, responses={200: WebhookSecretOut}, operation_id="webhooks_rotate"
    )
    def post(self, request: Request, webhook_id: int) -> Response:
        endpoint = get_object_or_404(
            WebhookEndpoint, pk=webhook_id, client=request_client(request), active=True
        )
        secret = webhook_secret_rotate(endpoint, actor=_actor(request))
        return Response(_output(endpoint, secret))
