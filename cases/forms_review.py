from datetime import timedelta

from django import forms
from django.utils import timezone

from cases.services.notes import NOTE_MAX


class SnoozeForm(forms.Form):
    """Until a given time, or a preset number of hours from now."""

    until = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    hours = forms.IntegerField(required=False, min_value=1, max_value=24 * 30)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("hours"):
            data["until"] = timezone.now() + timedelta(hours=data["hours"])
        if not data.get("until"):
            raise forms.ValidationError("Say until when to snooze.")
        return data


class NoteForm(forms.Form):
    body = forms.CharField(
        max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )


class UndoForm(forms.Form):
    label = forms.IntegerField()
