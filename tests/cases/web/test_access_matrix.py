"""Who may open what: one access decision for every URL pattern of the project.

ACCESS maps each route (as Django prints it, prefixes joined) to one
representative request and what anonymous visitors, reviewers, leads and
admins get: a status code, or the path a redirect goes to. A new URL
pattern without a row here fails `test_every_url_pattern_has_an_access_decision`.
"""

import json
import uuid
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from cases.models import AuditEvent, ReasonCode, WebhookDelivery, WebhookEndpoint
from cases.services.review import case_claim, case_decide
from cases.services.rules import list_entry_add, rule_create
from cases.services.users import user_create
from models_ml.models import ModelVersion
from tests.cases.web.conftest import PASSWORD
from tests.factories import CaseFactory, TenantFactory

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "reviewer", "lead", "admin")
LOGIN = "/login/?next="
ADMIN_LOGIN = "/admin/login/?next="


@dataclass(frozen=True)
class Access:
    method: str
    url: str
    # int: the status code; str: where the redirect goes (a prefix)
    anonymous: int | str
    reviewer: int | str
    lead: int | str
    admin: int | str
    data: dict | None = None


def _web(method, url, reviewer, lead=None, admin=None, data=None) -> Access:
    """A workbench page: anonymous visitors are sent to the sign-in page."""
    lead = reviewer if lead is None else lead
    admin = lead if admin is None else admin
    return Access(method, url, LOGIN, reviewer, lead, admin, data)


def _api(method, url, signed_in=401) -> Access:
    """The API authenticates API clients by token; a session is no client."""
    return Access(method, url, 401, signed_in, signed_in, signed_in, {})


def _admin(method, url, admin, anonymous=ADMIN_LOGIN, others=ADMIN_LOGIN) -> Access:
    """The Django admin: staff only; reviewers and leads are not staff."""
    return Access(method, url, anonymous, others, others, admin)


DECIDE = {"claim": "{claim}", "value": "fraud", "reasons": "other", "note": ""}
OVERRIDE = {"value": "legitimate", "reasons": "other", "note": "checked"}

ACCESS = {
    "": _web("GET", "/", "/queue/"),
    "queue/": _web("GET", "/queue/", 200),
    "cases/next/": _web("POST", "/cases/next/", "/cases/"),
    "cases/<int:pk>/": _web("GET", "/cases/{case}/", 200),
    "cases/<int:pk>/claim/": _web("POST", "/cases/{case}/claim/", "/cases/{case}/"),
    "cases/<int:pk>/release/": _web("POST", "/cases/{mine}/release/", "/queue/"),
    "cases/<int:pk>/decide/": _web(
        "POST", "/cases/{mine}/decide/", "/cases/", data=DECIDE
    ),
    "cases/<int:pk>/override/": _web(
        "POST", "/cases/{decided}/override/", 403, "/cases/{decided}/", data=OVERRIDE
    ),
    "cases/<int:pk>/reassign/": _web(
        "POST",
        "/cases/{case}/reassign/",
        403,
        "/cases/{case}/",
        data={"reviewer": "reviewer-two"},
    ),
    "cases/<int:pk>/skip/": _web("POST", "/cases/{mine}/skip/", "/cases/"),
    "cases/<int:pk>/snooze/": _web(
        "POST", "/cases/{mine}/snooze/", "/cases/", data={"hours": "1"}
    ),
    "cases/<int:pk>/notes/": _web(
        "POST", "/cases/{case}/notes/", "/cases/{case}/", data={"body": "called"}
    ),
    # Someone else's decision: refused, back to the queue.
    "cases/<int:pk>/block/": _web(
        "POST", "/cases/{case}/block/", "/cases/{case}/", data={"entity_type": "card"}
    ),
    "cases/<int:pk>/group/": _web(
        "POST",
        "/cases/{case}/group/",
        "/cases/{case}/",
        data={"cases": "{case}", "value": "fraud", "reasons": "other"},
    ),
    "rules/": _web("GET", "/rules/", 403, 200),
    "rules/new/": _web("GET", "/rules/new/", 403, 200),
    "rules/<int:pk>/": _web("GET", "/rules/{rule}/", 403, 200),
    "cases/undo/": _web("POST", "/cases/undo/", "/queue/", data={"label": "{label}"}),
    "entities/<int:client>/<str:kind>/": _web(
        "GET", "/entities/{apiclient}/customer/?value={customer}", 200
    ),
    "models/": _web("GET", "/models/", 403, 200),
    # A candidate cannot be rolled back to: the list says so.
    "models/<int:pk>/rollback/": _web(
        "POST", "/models/{modelversion}/rollback/", 403, "/models/"
    ),
    "dashboard/": _web("GET", "/dashboard/", 403, 200),
    "dashboard/reviewers/": _web("GET", "/dashboard/reviewers/", 403, 200),
    "dashboard/models/": _web("GET", "/dashboard/models/", 403, 200),
    "dashboard/export/<slug:table>.csv": _web(
        "GET", "/dashboard/export/ranking.csv", 403, 200
    ),
    "login/": Access("GET", "/login/", 200, 200, 200, 200),
    "favicon.ico": Access("GET", "/favicon.ico", *["/static/favicon"] * 4),
    "logout/": Access("POST", "/logout/", 200, 200, 200, 200),
    "health/": Access("GET", "/health/", 200, 200, 200, 200),
    "api/v1/orders/": _api("POST", "/api/v1/orders/"),
    "api/v1/orders/batch/": _api("POST", "/api/v1/orders/batch/"),
    "api/v1/orders/<str:order_id>/": _api("GET", "/api/v1/orders/{order_id}/"),
    "api/v1/orders/<str:order_id>/outcomes/": _api(
        "POST", "/api/v1/orders/{order_id}/outcomes/"
    ),
    "api/v1/cases/<int:case_id>/": _api("GET", "/api/v1/cases/{case}/"),
    "api/v1/lists/": _api("GET", "/api/v1/lists/"),
    "api/v1/lists/<int:entry_id>/": _api("DELETE", "/api/v1/lists/{listentry}/"),
    "api/v1/rules/backtest/": _api("POST", "/api/v1/rules/backtest/"),
    "api/v1/webhooks/": _api("GET", "/api/v1/webhooks/"),
    "api/v1/webhooks/<int:webhook_id>/": _api(
        "DELETE", "/api/v1/webhooks/{webhookendpoint}/"
    ),
    "api/v1/webhooks/<int:webhook_id>/rotate-secret/": _api(
        "POST", "/api/v1/webhooks/{webhookendpoint}/rotate-secret/"
    ),
    # The schema and its docs are no data: any signed-in user may read them.
    "api/v1/schema/": _api("GET", "/api/v1/schema/", signed_in=200),
    "api/v1/docs/": _api("GET", "/api/v1/docs/", signed_in=200),
    "admin/": _admin("GET", "/admin/", 200),
    "admin/login/": _admin("GET", "/admin/login/", "/admin/", 200, 200),
    "admin/logout/": _admin("POST", "/admin/logout/", 200, "/admin/", "/admin/"),
    "admin/password_change/": _admin("GET", "/admin/password_change/", 200),
    "admin/password_change/done/": _admin("GET", "/admin/password_change/done/", 200),
    # Autocomplete serves autocomplete_fields; no admin declares any.
    "admin/autocomplete/": _admin("GET", "/admin/autocomplete/", 403),
    "admin/jsi18n/": _admin("GET", "/admin/jsi18n/", 200),
    # Users have no page outside the admin to go to.
    "admin/r/<path:content_type_id>/<path:object_id>/": _admin(
        "GET", "/admin/r/{user_ct}/{user}/", 404
    ),
    "admin/auth/user/<id>/password/": _admin(
        "GET", "/admin/auth/user/{user}/password/", 200
    ),
    "admin/^(?P<app_label>auth|cases|tenants|rules|models_ml)/$": _admin(
        "GET", "/admin/cases/", 200
    ),
    "admin/(?P<url>.*)$": _admin("GET", "/admin/no-such-page/", 404),
}

# The admin role's permissions (migration 0004) decide what it sees per model:
# list, add, history, delete, change, and the bare object URL (a redirect).
ADMIN_MODEL_ROUTES = (
    ("", ""),
    ("add/", "add/"),
    ("<path:object_id>/history/", "{pk}/history/"),
    ("<path:object_id>/delete/", "{pk}/delete/"),
    ("<path:object_id>/change/", "{pk}/change/"),
    ("<path:object_id>/", "{pk}/"),
)
CHANGE = "{change}"
VIEW_ONLY = (200, 403, 200, 403, 200, CHANGE)
ADD_AND_CHANGE = (200, 200, 200, 403, 200, CHANGE)
FULL = (200, 200, 200, 200, 200, CHANGE)
ADMIN_MODELS = {
    "auth/group": ("group", VIEW_ONLY),
    "auth/user": ("user", ADD_AND_CHANGE),
    "cases/apiclient": ("apiclient", ADD_AND_CHANGE),
    # Orders, cases and labels are the workbench's: admins may look, not edit.
    "cases/order": ("order", VIEW_ONLY),
    "cases/case": ("case", VIEW_ONLY),
    "cases/label": ("label", VIEW_ONLY),
    "cases/auditevent": ("auditevent", VIEW_ONLY),
    "cases/reasoncode": ("reasoncode", FULL),
    "cases/webhookendpoint": ("webhookendpoint", ADD_AND_CHANGE),
    # Deliveries are made by the system; admins view them and replay dead ones.
    "cases/webhookdelivery": ("webhookdelivery", VIEW_ONLY),
    "models_ml/modelversion": ("modelversion", VIEW_ONLY),
    # The admin role creates tenants (never deletes one) and manages who works
    # for which.
    "tenants/tenant": ("tenant", ADD_AND_CHANGE),
    "tenants/membership": ("membership", FULL),
    # Rules are written on the rules pages (versioned, audited); lists too
    # can be kept in the admin.
    "rules/rule": ("rule", VIEW_ONLY),
    "rules/ruleversion": ("ruleversion", VIEW_ONLY),
    "rules/listentry": ("listentry", FULL),
}
for _model, (_key, _outcomes) in ADMIN_MODELS.items():
    for (_route, _url), _outcome in zip(ADMIN_MODEL_ROUTES, _outcomes, strict=True):
        _target = f"/admin/{_model}/{{{_key}}}/change/"
        ACCESS[f"admin/{_model}/{_route}"] = _admin(
            "GET",
            f"/admin/{_model}/{_url.replace('{pk}', '{' + _key + '}')}",
            _target if _outcome == CHANGE else _outcome,
        )


def _routes(patterns, prefix: str = ""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def test_every_url_pattern_has_an_access_decision():
    routes = set(_routes(get_resolver().url_patterns))

    missing, gone = sorted(routes - ACCESS.keys()), sorted(ACCESS.keys() - routes)

    assert missing == [], f"decide who may open these, in ACCESS: {missing}"
    assert gone == [], f"these routes no longer exist: {gone}"


@pytest.fixture
def world(request, settings) -> tuple[Client, dict]:
    """A client signed in as `request.param`, and the objects URLs point at."""
    settings.QA_SHARE = 0
    role = request.param
    other = user_create("reviewer-two", PASSWORD, "reviewer", tenant=TenantFactory())
    acting = (
        None
        if role == "anonymous"
        else user_create(role, PASSWORD, role, tenant=TenantFactory())
    )
    case, spare, decided = (CaseFactory(priority=p) for p in (30.0, 20.0, 10.0))
    mine = case_claim(CaseFactory(priority=5.0), acting or other)
    done = case_claim(decided, other)
    label = case_decide(done.pk, other, value="fraud", reasons=["other"], note="")
    hook = WebhookEndpoint.objects.create(
        client=case.order.client, url="https://shop.example/hook", secret="s" * 64
    )
    delivery = WebhookDelivery.objects.create(
        event_id=uuid.uuid4(),
        endpoint=hook,
        event_type="case.decided",
        order=decided.order,
        payload={},
    )
    rule = rule_create(
        case.tenant_id,
        actor="user:lead",
        owner=None,
        name="big",
        expression="amount > 1000.0",
        action="review",
    )
    entry, _created = list_entry_add(
        case.tenant_id, kind="block", entity_type="card", value="fp-x", actor="t"
    )
    client = Client()
    if acting is not None:
        client.force_login(acting)
    return client, {
        "case": case.pk,
        "mine": mine.case_id,
        "claim": mine.pk,
        "decided": decided.pk,
        "order": case.order_id,
        "order_id": case.order.order_id,
        "customer": case.order.customer_id,
        "apiclient": case.order.client_id,
        "tenant": case.tenant_id,
        "membership": acting.membership.pk if acting else other.membership.pk,
        "label": label.pk,
        "auditevent": AuditEvent.objects.first().pk,
        "modelversion": ModelVersion.objects.create(
            tenant=TenantFactory(), status="candidate"
        ).pk,
        "user": other.pk,
        "user_ct": ContentType.objects.get_for_model(other).pk,
        "group": Group.objects.get(name="reviewer").pk,
        "webhookendpoint": hook.pk,
        "webhookdelivery": delivery.pk,
        "reasoncode": ReasonCode.objects.first().pk,
        "rule": rule.pk,
        "ruleversion": rule.versions.get().pk,
        "listentry": entry.pk,
        "_spare": spare,
    }


def _outcome(response, expected: int | str, ctx: dict) -> int | str:
    """The response as the table states it: a status, or where it redirects."""
    if not 300 <= response.status_code < 400:
        return response.status_code
    location = response["Location"]
    if isinstance(expected, str) and location.startswith(expected.format(**ctx)):
        return expected
    return location


def _request(client: Client, access: Access, ctx: dict):
    url = access.url.format(**ctx)
    if access.method == "GET":
        return client.get(url)
    data = {k: v.format(**ctx) for k, v in (access.data or {}).items()}
    if url.startswith("/api/"):
        return client.generic(
            access.method, url, json.dumps(data), content_type="application/json"
        )
    return client.post(url, data)


@pytest.mark.parametrize("world", ROLES, indirect=True)
@pytest.mark.parametrize("route", sorted(ACCESS))
def test_access_matches_the_table(route, world, request):
    client, ctx = world
    role = request.node.callspec.params["world"]
    access = ACCESS[route]
    expected = getattr(access, role)

    response = _request(client, access, ctx)

    assert _outcome(response, expected, ctx) == expected
