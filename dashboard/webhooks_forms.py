"""The forms of the Webhooks page (create and edit a webhook) and of the Activity page (the
audit trail's filters); the services (dashboard/webhooks.py, dashboard/events.py) validate."""

from django import forms
from django.apps import apps

from .events import ALL_EVENTS, EVENT_TYPES
from .list_controls import bounded_choices

PROJECT_CHOICES_MAX = 500


def project_choices(*, blank: str, chosen: str = "") -> list[tuple[str, str]]:
    """Projects by name (batches' model, through the registry: dashboard imports no app): the
    first `PROJECT_CHOICES_MAX`, and the chosen one wherever it is (a webhook of the 501st
    project keeps it on its page and on save)."""
    Project = apps.get_model("batches", "Project")
    projects = Project.objects.order_by("name").only("name")
    shown, _ = bounded_choices(projects, chosen=chosen, limit=PROJECT_CHOICES_MAX)
    return [("", blank), *((p.pk, p.name) for p in shown)]


def _chosen(form: forms.Form, name: str) -> str:
    """The value a form's field holds: as posted, else its initial value."""
    value = form.data.get(name) if form.is_bound else form.initial.get(name)
    return str(value or "")[:64]


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
        self.fields["project"].choices = project_choices(
            blank="every project", chosen=_chosen(self, "project")
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
    dataset = forms.CharField(required=False, max_length=26, label="Dataset id")
    actor = forms.CharField(required=False, max_length=150, label="Person (username)")
    since = forms.DateTimeField(required=False, help_text="YYYY-MM-DD HH:MM")
    until = forms.DateTimeField(required=False)
    before = forms.CharField(required=False, max_length=26, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", "any type"), *((t, t) for t in EVENT_TYPES)]
        self.fields["project"].choices = project_choices(
            blank="any project", chosen=_chosen(self, "project")
        )
