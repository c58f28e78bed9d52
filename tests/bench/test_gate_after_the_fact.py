"""bench.gate_after_the_fact judges each compared version on the final audit
sample: a challenger trained on shuffled labels is worse beyond the noise."""

import pytest

from bench.gate_after_the_fact import after_the_fact
from cases.services.training import model_retrain
from models_ml.models import ModelVersion
from tests.cases.services.test_training_gate import (
    FAST,
    _audit,
    shuffled_label_challenger,
)
from tests.cases.services.test_training_gate import history as history  # noqa: F401


@pytest.mark.django_db
def test_a_shuffled_label_challenger_is_worse_after_the_fact_and_a_retrain_ties(
    history,  # noqa: F811
):
    _audit(history, every=2)
    champion = model_retrain(history, params=FAST)
    assert champion.status == ModelVersion.Status.ACTIVE, champion.promotion_reason

    worse = shuffled_label_challenger(history)
    again = model_retrain(history, params=FAST, force=True)

    report = after_the_fact(None)

    assert report["audit_cases"] == 750
    judged = {v["version"]: v for v in report["versions"]}
    assert set(judged) == {worse.pk, again.pk}
    assert judged[worse.pk]["after_the_fact"] == "worse"
    assert judged[worse.pk]["verdict"] == "reject"
    assert judged[again.pk]["after_the_fact"] == "tie"
    assert report["worse_promotions"] == 0
