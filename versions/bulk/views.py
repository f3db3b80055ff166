"""Import pages: the import form on the dataset and version pages previews a file's first
records or starts the import job, and answers with the preview, the job's live progress or the
refusal (an htmx partial), or the whole page again / the job page (plain form).
Also the sample files the import card offers."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

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
from dashboard.models import Job
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


def dataset_import_target(form: ImportForm, dataset) -> DatasetVersion | None:
    """The draft an import form named for `dataset` (None: the service opens a new draft)."""
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


@dataclass
class FormImport:
    """What an import form got: the started job, a preview of its file, a refusal
    (`{"field", "message", "label"}`) and the file kept for the next post (`keep_upload`)."""

    job: Job | None = None
    preview: Preview | None = None
    error: dict | None = None
    staged: dict | None = None

    @property
    def status(self) -> int:
        return 400 if self.error else 200


def form_import(
    request, form: ImportForm, *, record_type: str, dataset=None, version=None, keep: bool
) -> FormImport:
    """Preview or start the import an import form asks for (the pages' and the admin's):
    into `version`, or a draft of `dataset` (the form's `version`, else its current draft or a
    new one; the admin's form names the dataset itself). `keep`: the whole page comes back
    (no JavaScript), so the file stays chosen as a staged upload."""
    done = FormImport()
    if not form.is_valid():
        field, messages = next(iter(form.errors.items()))
        done.error = {"field": field, "message": messages[0]}
    else:
        user = request.user
        try:
            target = {"version": version}
            dataset = dataset or (None if version else form.cleaned_data.get("dataset"))
            if dataset is not None:
                chosen = dataset_import_target(form, dataset)
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
                done.preview = form_preview(form, record_type, user)
            else:
                with form_upload(form, user) as upload:
                    done.job = rows_import_start(
                        record_type=record_type, **target, **upload, user=user
                    )
                if form.uses_staged:
                    staged_upload_drop(token=form.cleaned_data["staged"], user=user)
        except ApplicationError as exc:
            done.error = {"field": exc.field, "message": page_words(exc.message)}
        if done.job is None and keep:
            done.staged = keep_upload(form, user)
    if done.error is not None:
        done.error["label"] = FIELD_LABELS.get(done.error["field"] or "", "")
    if done.job is not None:
        jobs_describe([done.job])
    return done


def _import(request, *, record_type: str, dataset=None, version=None, page):
    """Preview or start the import from the page's form; `page(request, **importer)` renders
    the whole page again (without JavaScript) with the form as posted."""
    form = ImportForm(request.POST, request.FILES)
    done = form_import(
        request,
        form,
        record_type=record_type,
        dataset=dataset,
        version=version,
        keep=not request.htmx,
    )
    if request.htmx:
        context = {
            "job": done.job,
            "preview": done.preview,
            "error": done.error,
            "record_type": record_type,
        }
        return render(request, "versions/_import_result.html", context, status=done.status)
    if done.job is not None:
        return redirect("job-detail", job_id=done.job.pk)
    return page(
        request,
        import_form=form,
        error=done.error,
        preview=done.preview,
        staged=done.staged,
        status=done.status,
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


def _whole_page(context, subject, template: str):
    """`page` for `_import`: the dataset or version page again, with the import card as
    posted (`context(request, subject, **importer)` builds the page)."""

    def page(request, *, status, **importer):
        return render(request, template, context(request, subject, **importer), status=status)

    return page


@role_required(Role.MANAGER)
@require_POST
def dataset_import_view(request, dataset_id: str):
    from ..views import dataset_context

    dataset = dataset_get(dataset_id=dataset_id)
    page = _whole_page(dataset_context, dataset, "versions/dataset_detail.html")
    return _import(request, record_type="data_rows", dataset=dataset, page=page)


@role_required(Role.MANAGER)
@require_POST
def version_import_view(request, version_id: str):
    from ..views import version_context

    version = version_get(version_id=version_id)
    page = _whole_page(version_context, version, "versions/version_detail.html")
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
