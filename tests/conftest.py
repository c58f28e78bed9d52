from pathlib import Path

import numpy as np
import pytest
from rest_framework.test import APIClient

from cases.services.clients import api_client_create
from lab.demo_data import generate_orders
from models_ml.artifacts import artifact_save
from models_ml.features import HISTORY_COLUMNS, build_features
from models_ml.frames import ORDER_FIELDS, labels_frame, orders_frame
from models_ml.models import ModelVersion
from models_ml.scoring import active_model_forget
from models_ml.training import model_fit

LABEL_DELAY_DAYS = 7


def demo_training_frames(n: int = 3000, seed: int = 11) -> tuple:
    """Features and truth for generated orders, built without the database."""
    from datetime import timedelta

    rows = generate_orders(n, seed=seed)
    orders = orders_frame([[row[f] for f in ORDER_FIELDS] for row in rows])
    labels = labels_frame(
        [
            (
                row["created_at"] + timedelta(days=LABEL_DELAY_DAYS),
                row["is_fraud"],
                row["customer_id"],
                row["card_fingerprint"],
                row["device_id"],
                row["seller_id"],
            )
            for row in rows
        ]
    )
    features = build_features(orders[HISTORY_COLUMNS], orders, labels)
    target = np.array([row["is_fraud"] for row in rows], dtype=int)
    return features, target


@pytest.fixture(scope="session")
def trained_artifact(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, str, object]:
    features, target = demo_training_frames()
    model = model_fit(features, target, {"max_iter": 60})
    path, digest = artifact_save(model, tmp_path_factory.mktemp("models"), "test.skops")
    return path, digest, model


@pytest.fixture
def active_version(db: None, trained_artifact: tuple) -> ModelVersion:
    """An active ModelVersion backed by a small model trained once per session."""
    import sklearn

    from models_ml.features import FEATURE_NAMES

    path, digest, _model = trained_artifact
    active_model_forget()
    version = ModelVersion.objects.create(
        status=ModelVersion.Status.ACTIVE,
        artifact_path=str(path),
        sha256=digest,
        sklearn_version=sklearn.__version__,
        feature_names=FEATURE_NAMES,
    )
    yield version
    active_model_forget()


@pytest.fixture
def client_and_token(db: None) -> tuple:
    return api_client_create("shop-under-test")


@pytest.fixture
def api(client_and_token: tuple) -> APIClient:
    """A DRF test client authenticated as an API client."""
    _client, token = client_and_token
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api
