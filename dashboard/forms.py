"""The dashboard's one filter form: every query parameter of every dashboard
page and CSV export goes through it, so a bad value is a field error (400)
and never reaches a query or date arithmetic."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone

from dashboard.selectors.common import MetricsWindow

DEFAULT_DAYS = 30
MAX_DAYS = 366
# Dates outside these bounds are refused: far dates overflow `datetime`
# arithmetic (9999-12-31 + 1 day) and no order is that old or that new.
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
MAX_K = 10_000
_DATE_RANGE = f"Pick a date from {EARLIEST.isoformat()} to {LATEST.isoformat()}."


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(
        required=False,
        label=label,
        validators=[
            MinValueValidator(EARLIEST, message=_DATE_RANGE),
            MaxValueValidator(LATEST, message=_DATE_RANGE),
        ],
        error_messages={"invalid": "Enter a date as YYYY-MM-DD."},
        widget=forms.DateInput(
            attrs={
                "type": "date",
                "min": EARLIEST.isoformat(),
                "max": LATEST.isoformat(),
            }
        ),
    )


class DashboardFilterForm(forms.Form):
    date_from = _date_field("From")
    date_to = _date_field("To")
    k = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_K,
        label="Capacity k (orders/day)",
        error_messages={"invalid": f"Enter a whole number from 1 to {MAX_K:,}."},
        widget=forms.NumberInput(attrs={"placeholder": "observed"}),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "date_from" not in data or "date_to" not in data:
            return data  # a date field already has its error
        last = data["date_to"] or min(timezone.localdate(), LATEST)
        first = data["date_from"] or max(
            last - timedelta(days=DEFAULT_DAYS - 1), EARLIEST
        )
        if first > last:
            self.add_error("date_from", "“From” must not be after “To”.")
        elif (last - first).days >= MAX_DAYS:
            self.add_error("date_from", f"Pick at most {MAX_DAYS} days.")
        else:
            data["window"] = MetricsWindow(first, last)
        return data
