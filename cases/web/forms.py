from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from cases.models import Case, Label, ReasonCode
from cases.schemas import FIRST_YEAR, LAST_YEAR, MAX_AMOUNT

# Order times are stored within these years (cases/schemas.py): a filter
# outside them matches nothing and, at 9999-12-31, cannot even be computed.
DATE_RANGE = [
    MinValueValidator(date(FIRST_YEAR, 1, 1)),
    MaxValueValidator(date(LAST_YEAR, 12, 31)),
]


def _date_field() -> forms.DateField:
    return forms.DateField(
        required=False,
        validators=DATE_RANGE,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


def _amount_field() -> forms.DecimalField:
    return forms.DecimalField(
        required=False,
        min_value=0,
        max_value=MAX_AMOUNT,
        max_digits=14,
        decimal_places=2,
    )


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("pending", "Pending"), *Case.Status.choices], required=False
    )
    q = forms.CharField(
        required=False,
        max_length=128,
        label="Search",
        help_text="Order id, customer, email, device, IP, card fingerprint or seller",
    )
    score_min = forms.FloatField(required=False, min_value=0, max_value=1)
    score_max = forms.FloatField(required=False, min_value=0, max_value=1)
    amount_min = _amount_field()
    amount_max = _amount_field()
    date_from = _date_field()
    date_to = _date_field()
    reason = forms.ChoiceField(
        choices=[("", "Any"), *Case.QueueReason.choices], required=False
    )
    seller = forms.CharField(required=False, max_length=128)
    country = forms.CharField(required=False, max_length=2)
    assignee = forms.CharField(required=False, max_length=150)
    # The keyset cursor: repr() of the last row's priority, then its id.
    after = forms.RegexField(
        regex=r"^-?[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?_[0-9]{1,18}$", required=False
    )


def _reason_choices() -> list[tuple[str, str]]:
    return [(r.code, r.label) for r in ReasonCode.objects.filter(active=True)]


class DecisionForm(forms.Form):
    claim = forms.IntegerField(widget=forms.HiddenInput)
    value = forms.ChoiceField(choices=[*Label.Value.choices, ("escalate", "Escalate")])
    reasons = forms.MultipleChoiceField(choices=_reason_choices, required=False)
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    # "A reason is required", "escalation needs a note" and "the reasons fit
    # the decision" are the review service's rules (cases/services/review.py).


class OverrideForm(forms.Form):
    value = forms.ChoiceField(choices=Label.Value.choices)
    # The case's status when the page was drawn: a stale decision is refused.
    expected_status = forms.ChoiceField(
        choices=Case.Status.choices, required=False, widget=forms.HiddenInput
    )
    reasons = forms.MultipleChoiceField(choices=_reason_choices, required=False)
    note = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ReassignForm(forms.Form):
    reviewer = forms.CharField(max_length=150)
