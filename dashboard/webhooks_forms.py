"""The forms of the Webhooks page (create and edit a webhook) and of the Activity page (the
audit trail's filters); the services (dashboard/webhooks.py, dashboard/events.py) validate."""

import re

from django import forms
from django.apps import apps

from .events import ALL_EVENTS, EVENT_TYPES
from .list_controls import bounded_choices

CHOICES_MAX = 500  # projects (datasets) listed in a select, by name
ID_RE = re.compile(r"[0-9a-z]{1,26}")


def project_choices(*, blank: str, given=None) -> list[tuple[str, str]]:
    """Projects by name (batches' model, through the registry: dashboard imports no app)."""
    return named_choices("batches.Project", blank=blank, given=given)


def named_choices(model: str, *, blank: str, given=None) -> list[tuple[str, str]]:
    """("", blank), the first CHOICES_MAX rows of `model` ("app.Model") by name, and the id
    `given` (in a link, a saved query, a webhook being edited) when it is not among them: by its
    name, or marked deleted (the audit trail outlives what it names; a webhook's service
    refuses it)."""
    rows = apps.get_model(model).objects.order_by("name").only("name")
    chosen = given if isinstance(given, str) and ID_RE.fullmatch(given) else ""
    shown, _ = bounded_choices(rows, chosen=chosen, limit=CHOICES_MAX)
    choices = [("", blank), *((row.pk, row.name) for row in shown)]
    if chosen and all(row.pk != chosen for row in shown):
        choices.append((chosen, f"{chosen} (deleted)"))
    return choices


class WebhookForm(forms.Form):
    url = forms.CharField(label="URL", max_length=2000, help_text="http:// or https://")
    events = forms.MultipleChoiceField(
        choices=[(ALL_EVENTS, "* (every event)"), *((t, t) for t in EVENT_TYPES)],
        widget=forms.CheckboxSelectMultiple,
    )
    project = forms.ChoiceField(required=False, help_text="Only this project's events.")
    active = forms.BooleanField(required=False, initial=True)
    secret = forms.CharField(
        required=False,
        max_length=128,
        help_text="Leave empty: a new one is generated on create, the current one kept on edit.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        given = self.data.get("project") if self.is_bound else self.initial.get("project")
        self.fields["project"].choices = project_choices(blank="every project", given=given)


def webhook_form_values(data: dict) -> dict:
    """A webhook form's cleaned data as the services take it (an empty secret: none given)."""
    values = {name: data[name] for name in ("url", "events", "project", "active") if name in data}
    if data.get("secret"):
        values["secret"] = data["secret"]
    return values


class ActivityForm(forms.Form):
    type = forms.ChoiceField(required=False)
    project = forms.ChoiceField(required=False)
    dataset = forms.ChoiceField(required=False)
    actor = forms.CharField(required=False, max_length=150, label="Person (username)")
    since = forms.DateTimeField(required=False, help_text="YYYY-MM-DD HH:MM")
    until = forms.DateTimeField(required=False)
    before = forms.CharField(required=False, max_length=26, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", "any type"), *((t, t) for t in EVENT_TYPES)]
        self.fields["project"].choices = project_choices(
            blank="any project", given=self.data.get("project")
        )
        self.fields["dataset"].choices = named_choices(
            "versions.Dataset", blank="any dataset", given=self.data.get("dataset")
        )
