import json
from collections.abc import Callable
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
from tenants.models import Tenant
from tests.corpora import corpus_path
from tests.factories import TenantFactory

LABEL_DELAY_DAYS = 7


# Every test in these folders carries the marker, so `-m "not browser and not
# worker"` leaves them out even when a new module forgets its pytestmark.
_MARKERS_BY_FOLDER = {"browser": pytest.mark.browser, "worker": pytest.mark.worker}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent
    for item in items:
        if not item.path.is_relative_to(tests):
            continue
        folder = item.path.relative_to(tests).parts[0]
        if folder in _MARKERS_BY_FOLDER:
            item.add_marker(_MARKERS_BY_FOLDER[folder])


@pytest.fixture(scope="session")
def corpus() -> Callable[[str], Path]:
    """`corpus("naughty-strings/blns.json")` → its path under ../shared/data/;
    the test fails with that path when it is missing."""
    return corpus_path


@pytest.fixture(scope="session")
def naughty_strings(corpus: Callable[[str], Path]) -> list[str]:
    """The Big List of Naughty Strings, each once, in the file's order."""
    text = corpus("naughty-strings/blns.json").read_text(encoding="utf-8")
    return list(dict.fromkeys(json.loads(text)))


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
def champion(db: None, trained_artifact: tuple) -> Callable[[Tenant], ModelVersion]:
    """`champion(tenant)`: an active ModelVersion of that tenant, backed by a
    small model trained once per session."""
    import sklearn

    from models_ml.features import FEATURE_NAMES

    path, digest, _model = trained_artifact

    def make(tenant: Tenant) -> ModelVersion:
        return ModelVersion.objects.create(
            tenant=tenant,
            status=ModelVersion.Status.ACTIVE,
            artifact_path=str(path),
            sha256=digest,
            sklearn_version=sklearn.__version__,
            feature_names=FEATURE_NAMES,
        )

    active_model_forget()
    yield make
    active_model_forget()


@pytest.fixture
def active_version(champion: Callable[[Tenant], ModelVersion]) -> ModelVersion:
    """The active version of the "default" tenant: the tenant of factory-made
    orders and users and of the `api` client."""
    return champion(TenantFactory())


@pytest.fixture
def client_and_token(db: None) -> tuple:
    """An API client of the "default" tenant, and its token."""
    return api_client_create("shop-under-test", tenant=TenantFactory())


@pytest.fixture
def api(client_and_token: tuple) -> APIClient:
    """A DRF test client authenticated as an API client."""
    _client, token = client_and_token
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api
