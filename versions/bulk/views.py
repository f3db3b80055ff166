"""Import pages: the import form on the dataset and version pages starts a job and answers
with its live progress (htmx) or redirects to the job page (plain form)."""

from __future__ import annotations

from django import forms
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dashboard.errors import ApplicationError
from dashboard.roles import Role, role_required

from ..models import Dataset
from ..selectors import dataset_get, version_get
from .start import data_rows_version_for_writing, rows_import_start

OPTIONS = ("format", "mode", "key", "on_error", "unknown")


def _start(request, *, version_for, record_type: str, action: str):
    upload = request.FILES.get("file")
    options = {name: request.POST.get(name) or None for name in OPTIONS}
    try:
        if upload is None:
            raise ApplicationError("Choose a file to import.", field="file")
        with transaction.atomic():
            job = rows_import_start(
                version=version_for(),
                record_type=record_type,
                fileobj=upload,
                filename=upload.name,
                size=upload.size,
                user=request.user,
                **options,
            )
    except ApplicationError as exc:
        context = {
            "error": exc.message,
            "field": exc.field,
            "action": action,
            "record_type": record_type,
        }
        return render(request, "versions/_import_result.html", context, status=400)
    if not request.htmx:
        return redirect("job-detail", job_id=job.pk)
    return render(request, "versions/_import_result.html", {"job": job, "action": action})


@role_required(Role.MANAGER)
@require_POST
def dataset_import_view(request, dataset_id: str):
    dataset = dataset_get(dataset_id=dataset_id)
    return _start(
        request,
        version_for=lambda: data_rows_version_for_writing(dataset=dataset, user=request.user),
        record_type="data_rows",
        action=request.path,
    )


@role_required(Role.MANAGER)
@require_POST
def version_import_view(request, version_id: str):
    version = version_get(version_id=version_id)
    return _start(request, version_for=lambda: version, record_type="frames", action=request.path)


class DataRowImportForm(forms.Form):
    """The admin's import page (the pages use the plain form in `_import_form.html`)."""

    dataset = forms.ModelChoiceField(queryset=Dataset.objects.order_by("name"))
    file = forms.FileField(help_text="CSV, JSON array or NDJSON, UTF-8")
    format = forms.ChoiceField(
        choices=[
            ("", "from the file name"),
            ("csv", "CSV"),
            ("json", "JSON"),
            ("ndjson", "NDJSON"),
        ],
        required=False,
    )
    mode = forms.ChoiceField(choices=[(m, m) for m in ("upsert", "create", "sync")])
    key = forms.ChoiceField(choices=[("global_key", "global_key"), ("id", "id")])
    on_error = forms.ChoiceField(choices=[("continue", "continue"), ("atomic", "atomic")])
    ignore_unknown = forms.BooleanField(required=False, label="Ignore unknown columns")
