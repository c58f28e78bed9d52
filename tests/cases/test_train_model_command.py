"""`manage.py train_model`, as `make run` calls it."""

import io

import pytest
from django.core.management import CommandError, call_command

from models_ml.models import ModelVersion
from tests.factories import LabelFactory

pytestmark = pytest.mark.django_db


def test_unless_active_keeps_the_active_model(active_version):
    out = io.StringIO()

    call_command("train_model", "--unless-active", stdout=out)

    assert list(ModelVersion.objects.values_list("pk", flat=True)) == [
        active_version.pk
    ]
    assert f"v{active_version.pk} is active" in out.getvalue()


def test_unless_active_trains_when_there_is_no_model():
    LabelFactory.create_batch(3)  # a tenant with labels, too few

    with pytest.raises(CommandError, match="labelled orders"):
        call_command("train_model", "--unless-active", stdout=io.StringIO())

    assert ModelVersion.objects.filter(status="failed").count() == 1


def test_without_labels_anywhere_nothing_is_trained():
    with pytest.raises(CommandError, match="nothing to train on"):
        call_command("train_model", stdout=io.StringIO())

    assert not ModelVersion.objects.exists()


def test_an_unknown_tenant_is_refused():
    with pytest.raises(CommandError, match="no tenant named 'nope'"):
        call_command("train_model", "--tenant", "nope", stdout=io.StringIO())
