from typing import Any

from django import forms

from cases.models import Case, Label, ReasonCode


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
    amount_min = forms.DecimalField(required=False, min_value=0)
    amount_max = forms.DecimalField(required=False, min_value=0)
    date_from = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
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

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("value") in Label.Value.values and not data.get("reasons"):
            self.add_error("reasons", "Pick at least one reason.")
        if data.get("value") == "escalate" and not data.get("note"):
            self.add_error("note", "Say why you escalate.")
        return data


class OverrideForm(forms.Form):
    value = forms.ChoiceField(choices=Label.Value.choices)
    reasons = forms.MultipleChoiceField(choices=_reason_choices, required=False)
    note = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ReassignForm(forms.Form):
    reviewer = forms.CharField(max_length=150)
