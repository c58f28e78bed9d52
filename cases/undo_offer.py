"""The "Undo" offer a decision leaves in the reviewer's session for the next
page (read back by the `undo_bar` template tag)."""

import time

from django.conf import settings
from django.http import HttpRequest

from cases.models import Label


def undo_offer(request: HttpRequest, label: Label) -> None:
    request.session["undo"] = {
        "label": label.pk,
        "case": label.case_id,
        "value": label.value,
        "until": time.time() + settings.DECISION_UNDO_SECONDS,
    }
