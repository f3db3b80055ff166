"""The forms of the Webhooks page (create and edit a webhook) and of the Activity page (the
audit trail's filters); the services (dashboard/webhooks.py, dashboard/events.py) validate."""

import re

from django import forms
from django.apps import apps

from .events import ALL_EVENTS, EVENT_TYPES

CHOICES_MAX = 500  # projects (datasets) listed in a select, by name
ID_RE = re.compile(r"[0-9a-z]{1,26}")


def project_choices(*, blank: str) -> list[tuple[str, str]]:
    """Projects by name (batches' model, through the registry: dashboard imports no app)."""
    return named_choices("batches.Project", blank=blank)


def named_choices(model: str, *, blank: str) -> list[tuple[str, str]]:
    """("", blank) and the first CHOICES_MAX rows of `model` ("app.Model") by name."""
    rows = apps.get_model(model).objects.order_by("name").values_list("id", "name")
    return [("", blank), *rows[:CHOICES_MAX]]


def choices_with_given(choices: list, given, *, model: str = "batches.Project") -> list:
    """`choices` (the first CHOICES_MAX by name) and the project (or other `model`) id
    `given` (in a link, a saved query, a webhook being edited) when it is not among them: by
    its name, or marked deleted (the audit trail outlives what it names; a webhook's service
    refuses it)."""
    if not isinstance(given, str) or not ID_RE.fullmatch(given):
        return choices
    if any(value == given for value, _ in choices):
        return choices
    name = apps.get_model(model).objects.filter(pk=given).values_list("name", flat=True).first()
    return [*choices, (given, name or f"{given} (deleted)")]


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
        self.fields["project"].choices = choices_with_given(
            project_choices(blank="every project"), given
        )


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
        self.fields["project"].choices = choices_with_given(
            project_choices(blank="any project"), self.data.get("project")
        )
        self.fields["dataset"].choices = choices_with_given(
            named_choices("versions.Dataset", blank="any dataset"),
            self.data.get("dataset"),
            model="versions.Dataset",
        )
