"""Import pages: the import form on the dataset and version pages previews a file's first
records or starts the import job, and answers with the preview, the job's live progress or the
refusal (an htmx partial), or the whole page again / the job page (plain form).
Also the sample files the import card offers."""

from __future__ import annotations

from contextlib import contextmanager

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dashboard.bulk.formats import CONTENT_TYPES, FORMATS
from dashboard.bulk.staged import (
    staged_max_bytes,
    staged_upload_create,
    staged_upload_drop,
    staged_upload_name,
)
from dashboard.errors import ApplicationError, Invalid
from dashboard.jobs.describe import jobs_describe
from dashboard.roles import Role, role_required

from ..forms import ImportForm
from ..models import DatasetVersion
from ..selectors import dataset_get, version_get
from .guide import COLUMNS, Preview, import_preview, import_sample
from .start import dataset_has_draft, rows_import_start

FIELD_LABELS = {
    "file": "File",
    "format": "Format",
    "mode": "Mode",
    "key": "Key",
    "on_error": "On error",
    "unknown": "Unknown columns",
    "version": "Import into",
}

# The API's words for an option, and what a page calls the same thing.
PAGE_WORDS = (
    ("(or send ?unknown=ignore)", "(or tick “ignore unknown columns”)"),
    ("send ?unknown=ignore", "tick “ignore unknown columns”"),
    (
        "Say which format the file is in: ?format=csv|json|ndjson, or a file name ending in "
        ".csv, .json or .ndjson.",
        "Choose the format, or use a file whose name ends in .csv, .json or .ndjson.",
    ),
    ("(BULK_MAX_UPLOAD_BYTES)", ""),
    ("(BULK_MAX_RECORD_BYTES)", ""),
)


def page_words(message: str) -> str:
    for api, page in PAGE_WORDS:
        message = message.replace(api, page)
    return message.strip()


def _dataset_target(form: ImportForm, dataset) -> DatasetVersion | None:
    """The draft the dataset page's form named (None: the service opens a new draft)."""
    version_id = form.cleaned_data.get("version")
    if not version_id:
        return None
    version = DatasetVersion.objects.filter(pk=version_id, dataset=dataset, removed=False).first()
    if version is None:
        raise Invalid("That version is not one of this dataset's versions.", field="version")
    if version.is_published:
        raise Invalid(
            f"{version.name!r} is published: choose a draft (or publish a snapshot to open one).",
            field="version",
        )
    return version


def _import(request, *, record_type: str, dataset=None, version=None, page):
    """Preview or start the import from the page's form; `page(request, **importer)` renders
    the whole page again (without JavaScript) with the form as posted."""
    form = ImportForm(request.POST, request.FILES)
    error = preview = job = staged = None
    if not form.is_valid():
        field, messages = next(iter(form.errors.items()))
        error = {"field": field, "message": messages[0]}
    else:
        try:
            target = {"version": version}
            if dataset is not None:
                chosen = _dataset_target(form, dataset)
                offered_new = "version" in request.POST and not form.previewing
                if chosen is None and offered_new and dataset_has_draft(dataset=dataset):
                    # The page offered a new draft, but one exists now: never write into a
                    # draft the user did not see.
                    raise Invalid(
                        "The dataset has a draft now: choose the version to import into.",
                        field="version",
                    )
                target = {"version": chosen} if chosen else {"dataset": dataset}
            if form.previewing:
                preview = form_preview(form, record_type, request.user)
            else:
                with form_upload(form, request.user) as upload:
                    job = rows_import_start(
                        record_type=record_type, **target, **upload, user=request.user
                    )
                if form.uses_staged:
                    staged_upload_drop(token=form.cleaned_data["staged"], user=request.user)
        except ApplicationError as exc:
            error = {"field": exc.field, "message": page_words(exc.message)}
        if job is None and not request.htmx:
            # The whole page comes back: the file stays chosen (kept as a staged upload).
            staged = keep_upload(form, request.user)
    if error is not None:
        error["label"] = FIELD_LABELS.get(error["field"] or "", "")
    status = 400 if error else 200
    if job is not None:
        jobs_describe([job])
    if request.htmx:
        context = {"job": job, "preview": preview, "error": error, "record_type": record_type}
        return render(request, "versions/_import_result.html", context, status=status)
    if job is not None:
        return redirect("job-detail", job_id=job.pk)
    return page(
        request, import_form=form, error=error, preview=preview, staged=staged, status=status
    )


def kept_upload(token: str, user) -> dict | None:
    """The file kept from a preview, as the form shows it (None: expired or not the user's)."""
    name = staged_upload_name(token=token, user=user)
    return {"token": token, "name": name} if name is not None else None


def keep_upload(form, user) -> dict | None:
    """For a page without JavaScript: keep the form's file as a staged upload, so the import
    starts without choosing it again — `{"token", "name"}` (the one already kept, when the form
    carried it), `{"too_large": bytes}` when it is larger than a staged upload may be."""
    if form.uses_staged:
        return kept_upload(form.cleaned_data["staged"], user)
    file = form.cleaned_data["file"]
    token = staged_upload_create(fileobj=file, filename=file.name, size=file.size, user=user)
    if token is None:
        return {"too_large": staged_max_bytes()}
    return {"token": token, "name": file.name}


@contextmanager
def form_upload(form, user):
    """The form's upload keywords; a kept file is closed after use."""
    upload = form.upload(user=user)
    try:
        yield upload
    finally:
        if form.uses_staged:
            upload["fileobj"].close()


def form_preview(form, record_type: str, user) -> Preview:
    """The preview of the form's file (chosen, or kept from an earlier preview)."""
    with form_upload(form, user) as upload:
        upload["fileobj"].seek(0)
        return import_preview(record_type, **upload)


@role_required(Role.MANAGER)
@require_POST
def dataset_import_view(request, dataset_id: str):
    from ..views import dataset_context

    dataset = dataset_get(dataset_id=dataset_id)

    def page(request, *, status, **importer):
        context = dataset_context(request, dataset, **importer)
        return render(request, "versions/dataset_detail.html", context, status=status)

    return _import(request, record_type="data_rows", dataset=dataset, page=page)


@role_required(Role.MANAGER)
@require_POST
def version_import_view(request, version_id: str):
    from ..views import version_context

    version = version_get(version_id=version_id)

    def page(request, *, status, **importer):
        context = version_context(request, version, **importer)
        return render(request, "versions/version_detail.html", context, status=status)

    return _import(request, record_type="frames", version=version, page=page)


@role_required(Role.VIEWER)
def import_sample_view(request, record_type: str, fmt: str):
    """A small importable file of data rows or frames, to start from."""
    if record_type not in COLUMNS or fmt not in FORMATS:
        raise Http404("No such sample.")
    response = HttpResponse(import_sample(record_type, fmt), content_type=CONTENT_TYPES[fmt])
    name = f"sample-{record_type.replace('_', '-')}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
