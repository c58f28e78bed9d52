import numpy as np

from models_ml.explanations import explainer_build, explanations_compute
from models_ml.features import FEATURE_NAMES
from tests.conftest import demo_training_frames


def test_shap_values_plus_base_equal_raw_model_output(trained_artifact):
    _path, _digest, model = trained_artifact
    features, _target = demo_training_frames(n=600, seed=5)
    rows = features.to_numpy(dtype=float)
    explainer = explainer_build(model)

    values = explainer.shap_values(rows)
    base = float(np.ravel(explainer.expected_value)[0])

    raw = model.decision_function(rows)
    assert np.isnan(rows).any()  # missing values are part of what is checked
    np.testing.assert_allclose(values.sum(axis=1) + base, raw, rtol=0, atol=1e-6)


def test_top_reasons_are_the_largest_contributions_in_words(trained_artifact):
    _path, _digest, model = trained_artifact
    features, _target = demo_training_frames(n=300, seed=6)
    rows = features.to_numpy(dtype=float)[:20]
    explainer = explainer_build(model)

    _base, reasons = explanations_compute(explainer, rows, FEATURE_NAMES, top=3)

    all_values = explainer.shap_values(rows)
    for row_reasons, row_values in zip(reasons, all_values, strict=True):
        expected = sorted(np.abs(row_values), reverse=True)[:3]
        got = [abs(r["contribution"]) for r in row_reasons]
        np.testing.assert_allclose(got, expected, atol=1e-6)
        assert all(
            r["text"]
            and not r["text"].startswith("Not available")
            or r["value"] is None
            for r in row_reasons
        )
