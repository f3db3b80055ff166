"""The forms of the Webhooks page (create and edit a webhook) and of the Activity page (the
audit trail's filters); the services (dashboard/webhooks.py, dashboard/events.py) validate."""

from django import forms
from django.apps import apps

from .events import ALL_EVENTS, EVENT_TYPES

PROJECT_CHOICES_MAX = 500


def project_choices(*, blank: str) -> list[tuple[str, str]]:
    """Projects by name (batches' model, through the registry: dashboard imports no app)."""
    Project = apps.get_model("batches", "Project")
    projects = Project.objects.order_by("name").values_list("id", "name")[:PROJECT_CHOICES_MAX]
    return [("", blank), *projects]


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
        self.fields["project"].choices = project_choices(blank="every project")


def webhook_form_values(data: dict) -> dict:
    """A webhook form's cleaned data as the services take it (an empty secret: none given)."""
    values = {name: data[name] for name in ("url", "events", "project", "active") if name in data}
    if data.get("secret"):
        values["secret"] = data["secret"]
    return values


class ActivityForm(forms.Form):
    type = forms.ChoiceField(required=False)
    project = forms.ChoiceField(required=False)
    dataset = forms.CharField(required=False, max_length=26, label="Dataset id")
    actor = forms.CharField(required=False, max_length=150, label="Person (username)")
    since = forms.DateTimeField(required=False, help_text="YYYY-MM-DD HH:MM")
    until = forms.DateTimeField(required=False)
    before = forms.CharField(required=False, max_length=26, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", "any type"), *((t, t) for t in EVENT_TYPES)]
        self.fields["project"].choices = project_choices(blank="any project")
