"""Lists and rules decide at intake and in re-scoring, through one path."""

import pytest

from cases.models import AuditEvent, Case
from cases.services.rescoring import orders_rescore
from cases.services.rules import list_entry_add, rule_create, rule_update
from models_ml.models import Score
from models_ml.scoring import active_model_forget
from rules.models import Rule, RuleVersion
from tests.factories import TenantFactory, order_payload


@pytest.fixture
def model_approves(settings, active_version):
    settings.RISK_REVIEW_THRESHOLD = 1.0
    settings.RISK_DECLINE_THRESHOLD = 1.0
    return active_version


def _rule(expression, action, state="active", **extra):
    return rule_create(
        TenantFactory().pk,
        actor="user:lead",
        owner=None,
        name=extra.pop("name", f"{action}: {expression}"),
        expression=expression,
        action=action,
        state=state,
        **extra,
    )


def _post(api, **overrides):
    response = api.post("/api/v1/orders/", order_payload(**overrides), format="json")
    assert response.status_code == 201
    return response.json()


def test_a_blocked_card_is_declined_and_the_reason_names_the_list(api, model_approves):
    list_entry_add(
        TenantFactory().pk,
        kind="block",
        entity_type="card",
        value="fp-123",
        actor="user:lead",
        reason="card testing",
    )

    body = _post(api)

    assert body["decision"] == "decline"
    assert body["case_id"] is None
    (reason,) = body["rule_reasons"]
    assert reason["kind"] == "list" and reason["decided"] is True
    assert "Card on block list since" in reason["text"]
    assert "by user:lead: card testing" in reason["text"]
    assert body["reasons"]  # SHAP reasons still beside it
    assert Score.objects.get().model_decision == "approve"


def test_an_ip_inside_a_blocked_range_is_declined(api, model_approves):
    list_entry_add(
        TenantFactory().pk,
        kind="block",
        entity_type="ip",
        value="198.51.100.0/24",
        actor="user:lead",
    )

    assert _post(api)["decision"] == "decline"


def test_the_allow_list_wins_over_a_decline_rule(api, model_approves):
    _rule("amount > 100.0", "decline")
    list_entry_add(
        TenantFactory().pk,
        kind="allow",
        entity_type="customer",
        value="cust-17",
        actor="user:lead",
    )

    body = _post(api)

    assert body["decision"] == "approve"
    decided = {r["kind"]: r["decided"] for r in body["rule_reasons"]}
    assert decided == {"list": True, "rule": False}


def test_a_review_rule_sends_an_approved_order_to_a_rule_case(api, model_approves):
    _rule("card_country != shipping_country", "review", name="Card abroad")

    body = _post(api, card_country="BR")

    assert body["decision"] == "review"
    case = Case.objects.get(pk=body["case_id"])
    assert case.queue_reason == Case.QueueReason.RULE
    assert case.top_reason == "Rule 'Card abroad' matched"


def test_boost_rules_add_to_the_case_priority(api, settings, active_version):
    settings.RISK_REVIEW_THRESHOLD = 0.0
    settings.RISK_DECLINE_THRESHOLD = 1.0
    _rule("amount > 100.0", "boost", boost=500.0)

    body = _post(api)

    case = Case.objects.get(pk=body["case_id"])
    assert case.priority == round(body["risk_score"] * 129.90 + 500.0, 4)


def test_draft_and_disabled_rules_do_not_act(api, model_approves):
    _rule("amount > 1.0", "decline", state="draft")
    _rule("amount > 2.0", "decline", state="disabled")

    body = _post(api)

    assert body["decision"] == "approve"
    assert body["rule_reasons"] == []


def test_a_rule_failing_on_an_order_is_skipped_and_counted(api, model_approves):
    failing = _rule("attributes.missing_key == 'x'", "decline")

    body = _post(api)

    assert body["decision"] == "approve"
    failing.refresh_from_db()
    assert failing.run_errors == 1
    assert "web-1001" in failing.last_error


def test_rescoring_goes_through_rules_too(api, model_approves, champion):
    _post(api)
    _rule("amount > 100.0", "decline")
    model_approves.status = "retired"
    model_approves.save()
    champion(TenantFactory())  # a new active version: the order is re-scored
    active_model_forget()

    assert orders_rescore([Score.objects.get().order_id]) == 1

    latest = Score.objects.order_by("-id").first()
    assert latest.decision == "decline"
    assert latest.rule_hits[0]["decided"] is True


def test_every_change_of_a_rule_is_a_version_and_an_audit_event(db):
    rule = _rule("amount > 100.0", "review", state="draft")
    rule_update(rule.pk, actor="user:lead2", state="active")
    rule_update(rule.pk, actor="user:lead2", state="active")  # no change

    versions = list(RuleVersion.objects.filter(rule=rule).order_by("number"))
    assert [(v.number, v.state) for v in versions] == [(1, "draft"), (2, "active")]
    events = AuditEvent.objects.filter(object_type="rule", object_id=str(rule.pk))
    assert sorted(events.values_list("action", flat=True)) == [
        "rule.changed",
        "rule.created",
    ]
    assert Rule.objects.get(pk=rule.pk).version == 2


def test_an_order_a_rule_sends_to_review_is_predicted_once_and_explained(
    api, model_approves, monkeypatch
):
    from models_ml.scoring import LoadedModel

    calls = []
    predict = LoadedModel.predict
    monkeypatch.setattr(
        LoadedModel,
        "predict",
        lambda self, rows: calls.append(len(rows)) or predict(self, rows),
    )
    _rule("amount > 1.0", "review")

    body = _post(api)

    assert body["decision"] == "review"
    assert body["reasons"]
    assert calls == [1]
