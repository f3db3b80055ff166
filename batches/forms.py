"""The batches pages' and admin's forms: each page validates its POST here once, with the bounds
of the API's input serializers (names, int32 priorities, consensus, row lists), then calls one
service with clean keyword arguments."""

from __future__ import annotations

import json

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

from dashboard.errors import INT32_MAX, INT32_MIN, Invalid
from dashboard.strict_json import json_parse

from .analytics import LABELER_COLUMNS
from .export import SWITCHES as EXPORT_SWITCHES
from .models import (
    CONSENSUS_MAX_LABELS,
    NAME_MAX_LENGTH,
    NAME_PREFIX_MAX_LENGTH,
    PROJECT_SETTINGS,
    RESERVATION_SECONDS_MAX,
    RESERVATION_SECONDS_MIN,
    REVIEW_REASON_MAX_LENGTH,
    Batch,
    Project,
    validate_annotation,
    validate_label_classes,
)
from .row_lists import rows_from_text, rows_from_upload
from .services import MAX_BATCH_ROWS

INT32_MESSAGE = "Priority must be a whole number from {:,} to {:,} (32-bit); got %(show_value)s."


def first_error(form: forms.Form) -> Invalid:
    """The form's first error as the templates show a refusal (`error.field`, `.message`)."""
    field, messages = next(iter(form.errors.items()))
    field = getattr(form, "error_fields", {}).get(field, field)
    return Invalid(messages[0], field=None if field == "__all__" else field)


class StringListField(forms.MultipleChoiceField):
    """Repeated form values, any strings (the service says which ones it knows)."""

    def valid_value(self, value) -> bool:
        return bool(value)


def name_field(*, max_length: int = NAME_MAX_LENGTH, required: str = "This field is required."):
    """A name: trimmed, not blank, at most `max_length` characters (the API says the same)."""
    return forms.CharField(
        max_length=max_length,
        error_messages={"required": required, "max_length": f"At most {max_length} characters."},
    )


def priority_field(**kwargs) -> forms.IntegerField:
    """A priority: empty (lowest) or a whole number within 32 bits, as the database keeps it."""
    return forms.IntegerField(
        required=False,
        error_messages={"invalid": "Priority must be a whole number or empty."},
        validators=[
            MinValueValidator(INT32_MIN, INT32_MESSAGE.format(INT32_MIN, INT32_MAX)),
            MaxValueValidator(INT32_MAX, INT32_MESSAGE.format(INT32_MIN, INT32_MAX)),
        ],
        **kwargs,
    )


class ProjectForm(forms.Form):
    """The projects page: name, description, label classes as comma-separated text."""

    name = name_field(required="A project needs a name.")
    description = forms.CharField(required=False, strip=False)
    label_classes = forms.CharField(required=False)
    review_percentage = forms.FloatField(
        required=False, min_value=0, max_value=1, help_text="0–1: the share of rows reviewed"
    )

    def clean_review_percentage(self) -> float:
        return self.cleaned_data.get("review_percentage") or 0.0

    def clean_label_classes(self) -> list[str]:
        raw = self.cleaned_data["label_classes"]
        return validate_label_classes([c.strip() for c in raw.split(",") if c.strip()])


class ProjectAdminForm(forms.ModelForm):
    """The admin's project form: the API's rules for the name, the ontology and the
    reservation time."""

    name = name_field(required="A project needs a name.")
    reservation_seconds = forms.IntegerField(
        min_value=RESERVATION_SECONDS_MIN, max_value=RESERVATION_SECONDS_MAX, initial=600
    )
    review_percentage = forms.FloatField(required=False, min_value=0, max_value=1, initial=0)

    def clean_review_percentage(self) -> float:
        return self.cleaned_data.get("review_percentage") or 0.0

    agreement_threshold = forms.FloatField(required=False, min_value=0, max_value=1)
    gold_percentage = forms.FloatField(required=False, min_value=0, max_value=1, initial=0)

    def clean_gold_percentage(self) -> float:
        return self.cleaned_data.get("gold_percentage") or 0.0

    class Meta:
        model = Project
        fields = list(PROJECT_SETTINGS)

    def clean_label_classes(self):
        return validate_label_classes(self.cleaned_data.get("label_classes"))


class BatchAdminForm(forms.ModelForm):
    """The admin's batch form (rename, re-prioritise): the API's rules for both fields."""

    name = name_field()
    priority = priority_field()

    class Meta:
        model = Batch
        fields = ["name", "priority"]


class BatchPriorityForm(forms.Form):
    priority = priority_field()


class BatchMoveForm(forms.Form):
    direction = forms.ChoiceField(
        choices=[("up", "up"), ("down", "down")],
        error_messages={"invalid_choice": "Must be up or down.", "required": "Must be up or down."},
    )


LABELS_MESSAGE = f"Labels per row must be a whole number from 1 to {CONSENSUS_MAX_LABELS}."
COVERAGE_MESSAGE = "Coverage must be a share above 0 and at most 1 (0.25 = a quarter of the rows)."


class ConsensusForm(forms.Form):
    """Priority and consensus, as the create-batch pages ask for them; `consensus_settings`
    is `{number_of_labels, coverage_percentage}` when both are given, else None. Each box's
    error is its own, in the page's words (the templates show it under that box)."""

    priority = priority_field()
    number_of_labels = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=CONSENSUS_MAX_LABELS,
        error_messages={
            "invalid": LABELS_MESSAGE,
            "min_value": LABELS_MESSAGE,
            "max_value": LABELS_MESSAGE,
        },
    )
    coverage_percentage = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        error_messages={
            "invalid": COVERAGE_MESSAGE,
            "min_value": COVERAGE_MESSAGE,
            "max_value": COVERAGE_MESSAGE,
        },
    )

    def clean(self):
        cleaned = super().clean()
        if {"number_of_labels", "coverage_percentage"} & set(self.errors):
            return cleaned
        n, cover = cleaned.get("number_of_labels"), cleaned.get("coverage_percentage")
        if n is None and cover is None:
            cleaned["consensus_settings"] = None
        elif n is None:
            self.add_error(
                "number_of_labels", "Give the labels per row too (or clear the coverage)."
            )
        elif cover is None:
            self.add_error(
                "coverage_percentage", "Give the coverage too (or clear the labels per row)."
            )
        elif cover <= 0:
            self.add_error("coverage_percentage", COVERAGE_MESSAGE)
        else:
            cleaned["consensus_settings"] = {"number_of_labels": n, "coverage_percentage": cover}
        return cleaned


class BatchForm(ConsensusForm):
    """The new-batch page: a name, the rows (text or a file, keys or ids), priority, consensus."""

    name = name_field()
    kind = forms.ChoiceField(
        choices=[("global_keys", "global keys"), ("data_rows", "data row ids")],
        required=False,
        error_messages={"invalid_choice": "Choose global keys or data row ids."},
    )
    rows = forms.CharField(required=False, strip=False)
    file = forms.FileField(required=False)
    field_order = ["name", "kind", "rows", "file", "priority"]

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind") or "global_keys"
        if "kind" in self.errors:
            return cleaned
        try:
            if cleaned.get("file"):
                values = rows_from_upload(cleaned["file"], target=kind, limit=MAX_BATCH_ROWS)
            else:
                values = rows_from_text(cleaned.get("rows", ""), target=kind, limit=MAX_BATCH_ROWS)
        except Invalid as exc:
            raise ValidationError({"rows": exc.message}) from None
        if not values:
            raise ValidationError({"rows": "Give at least one row."})
        cleaned[kind] = values
        return cleaned

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        keys = ("name", "priority", "consensus_settings", "global_keys", "data_rows")
        return {key: data[key] for key in keys if key in data}


class FromDatasetForm(ConsensusForm):
    name_prefix = name_field(max_length=NAME_PREFIX_MAX_LENGTH)
    dataset_id = forms.CharField(error_messages={"required": "This field is required."})
    version_id = forms.CharField(required=False)

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        keys = ("name_prefix", "dataset_id", "priority", "consensus_settings")
        return {**{key: data[key] for key in keys}, "version_id": data["version_id"] or None}


class DeleteLabelsForm(forms.Form):
    set_labels_as_template = forms.BooleanField(required=False)


class ExportForm(forms.Form):
    batch_ids = StringListField(required=False)
    attachments = forms.BooleanField(required=False)
    metadata_fields = forms.BooleanField(required=False)
    data_row_details = forms.BooleanField(required=False)
    labels = forms.BooleanField(required=False)

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {"batch_ids": data["batch_ids"] or None, **{k: data[k] for k in EXPORT_SWITCHES}}


class LabelForm(forms.Form):
    """The labeling page: take the next row, submit a label (JSON and/or classes), skip."""

    action = forms.CharField(required=False)
    entry = forms.CharField(required=False)
    annotation = forms.CharField(required=False)
    classes = StringListField(required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") != "submit":
            return cleaned
        raw = cleaned.get("annotation", "").strip() or "{}"
        try:
            annotation = json_parse(raw)
        except json.JSONDecodeError as exc:
            self.add_error("annotation", f"Malformed JSON: {exc}")
            return cleaned
        if cleaned.get("classes") and isinstance(annotation, dict):
            annotation["classes"] = cleaned["classes"]
        try:
            cleaned["annotation"] = validate_annotation(annotation)
        except ValidationError as exc:
            self.add_error("annotation", exc)
        return cleaned


class ReviewForm(forms.Form):
    """The review page: take the next label, accept it, or reject it with a reason (and,
    optionally, the priority its row is re-queued at)."""

    action = forms.ChoiceField(
        choices=[("next", "next"), ("accept", "accept"), ("reject", "reject")]
    )
    label = forms.CharField(required=False, max_length=64)
    reason = forms.CharField(required=False, max_length=REVIEW_REASON_MAX_LENGTH)
    priority = priority_field()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") in ("accept", "reject") and not cleaned.get("label"):
            self.add_error("label", "Which label? Take the next one first.")
        if cleaned.get("action") == "reject" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "A rejection needs a reason.")
        return cleaned


class AnalyticsForm(forms.Form):
    """The analytics page's query: a time range, the throughput bucket, the table's order."""

    SORTS = LABELER_COLUMNS  # the labeler table sorts by any of its columns

    since = forms.DateTimeField(required=False)
    until = forms.DateTimeField(required=False)
    bucket = forms.ChoiceField(choices=[("day", "day"), ("hour", "hour")], required=False)
    sort = forms.ChoiceField(choices=[(s, s) for s in SORTS], required=False)
    order = forms.ChoiceField(choices=[("asc", "asc"), ("desc", "desc")], required=False)

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            raise forms.ValidationError({"since": "Must be before until."})
        return data
