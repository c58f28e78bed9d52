"""bench.gate_after_the_fact judges each compared version on the final audit
sample: a challenger trained on shuffled labels is worse beyond the noise."""

import numpy as np
import pytest

from bench.gate_after_the_fact import after_the_fact
from cases.datasets import training_set
from cases.services.gate_samples import gate_policy, gate_sample
from cases.services.training import model_retrain
from models_ml.models import ModelVersion
from models_ml.services import model_train
from tests.cases.services.test_training_gate import FAST, _audit
from tests.cases.services.test_training_gate import history as history  # noqa: F401


@pytest.mark.django_db
def test_a_shuffled_label_challenger_is_worse_after_the_fact_and_a_retrain_ties(
    history,  # noqa: F811
):
    _audit(history, every=2)
    champion = model_retrain(history, params=FAST)
    assert champion.status == ModelVersion.Status.ACTIVE, champion.promotion_reason

    def shuffled():
        data = training_set(history)
        learn = ~np.isin(data.order_ids, gate_sample(history, data).reserved)
        rng = np.random.default_rng(0)
        data.target[learn] = rng.permutation(data.target[learn])
        return data

    worse = model_train(
        shuffled,
        tenant_id=history,
        force=True,
        params=FAST,
        gate_sample=lambda data: gate_sample(history, data),
        gate_policy=gate_policy(),
    )
    again = model_retrain(history, params=FAST, force=True)

    report = after_the_fact(None)

    assert report["audit_cases"] == 750
    judged = {v["version"]: v for v in report["versions"]}
    assert set(judged) == {worse.pk, again.pk}
    assert judged[worse.pk]["after_the_fact"] == "worse"
    assert judged[worse.pk]["verdict"] == "reject"
    assert judged[again.pk]["after_the_fact"] == "tie"
    assert report["worse_promotions"] == 0
