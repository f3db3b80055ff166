"""Project, batch and queue pages (htmx): the project page with its batch table, inline
priority edits and up/down reordering (plain forms without JS), the queue preview, the
create-batch and from-dataset forms, confirmations for destructive verbs, and a labeling page.
Each POST is validated by its form (batches/forms.py), then one service is called.
"""

from __future__ import annotations

import json
from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard.errors import ApplicationError, NotFound
from dashboard.jobs.describe import jobs_describe
from dashboard.list_controls import CHOICES_MAX, ListControlsForm
from dashboard.models import Job
from dashboard.roles import Role, role_required, user_has_role

from . import services
from .forms import (
    BatchForm,
    BatchMoveForm,
    BatchPriorityForm,
    DeleteLabelsForm,
    ExportForm,
    FromDatasetForm,
    LabelForm,
    ProjectForm,
    first_error,
)
from .review_selectors import rework_note
from .selectors import (
    BATCH_ROW_STATES,
    BATCH_SORTS,
    CHOICES_SEARCH_MAX_LENGTH,
    batch_get,
    batch_in_serving_order,
    batch_labelled_rows_count,
    batch_labels_count,
    batch_progress,
    batch_recent_labels,
    batch_removal_preview,
    batch_rows,
    batch_state_counts,
    dataset_choices,
    frame_versions,
    label_item,
    labeler_today,
    project_get,
    project_list,
    queue_counts,
    queue_preview,
    reservation_held,
    version_choices,
)
from .services.gold import gold_reservation_held


def page_errors(view):
    """Pages answer an unknown project, batch or entry with the 404 page (never a 500)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc

    return wrapped


@role_required(Role.VIEWER)
def projects_page(request):
    if request.method == "POST":
        if not user_has_role(request.user, Role.MANAGER):
            messages.error(request, "Only managers create projects.")
            return redirect("project-list")
        form = ProjectForm(request.POST)
        if not form.is_valid():
            messages.error(request, first_error(form).message)
            return redirect("project-list")
        project = services.project_create(**form.cleaned_data, user=request.user)
        return redirect("project-detail", project_id=project.pk)
    controls = ListControlsForm(request.GET, sorts=PROJECT_SORT_NAMES)
    q, sort, list_error = controls.values()
    page = Paginator(project_list(q=q, sort=sort), 50).get_page(request.GET.get("page"))
    context = {"page": page, "q": q, "sort": sort, "sorts": PROJECT_SORT_NAMES}
    context["list_error"] = list_error
    template = "batches/project_list.html"
    if request.htmx and request.htmx.target == "project-table":
        template += "#project-table"
    return render(
        request, template, context, status=400 if list_error and not request.htmx else 200
    )


PROJECT_SORT_NAMES = {
    "newest": "newest",
    "oldest": "oldest",
    "name": "name",
    "batches": "most batches",
}


BATCHES_PER_PAGE = 50


def _project_context(request, project, **extra):
    controls = ListControlsForm(request.GET, sorts=BATCH_SORTS)
    q, sort, list_error = controls.values()
    return {
        "project": project,
        "batches": Paginator(
            batch_in_serving_order(project=project, q=q, sort=sort), BATCHES_PER_PAGE
        ).get_page(request.GET.get("page") or request.POST.get("page")),
        "q": q,
        "sort": sort,
        "sorts": BATCH_SORTS,
        "list_error": list_error,
        "preview": queue_preview(project=project, limit=10),
        "counts": queue_counts(project=project),
        "is_manager": user_has_role(request.user, Role.MANAGER),
        **extra,
    }


@role_required(Role.VIEWER)
@page_errors
def project_page(request, project_id: str):
    project = project_get(project_id=project_id)
    template = "batches/project_detail.html"
    if request.htmx and request.htmx.target in ("batch-table", "queue-preview"):
        template += "#" + request.htmx.target
    return render(request, template, _project_context(request, project))


def _project_and_batch(project_id: str, batch_id: str):
    """The batch a page's URL names, with its project (404 for either unknown)."""
    project = project_get(project_id=project_id)
    return project, batch_get(project=project, batch_id=batch_id)


def _after_batch_edit(request, project, notice: str = ""):
    """htmx: the refreshed batch table saying what changed (the queue preview follows via an
    event); else back to the project page, with the same words as a message."""
    if request.htmx:
        response = render(
            request,
            "batches/project_detail.html#batch-table",
            _project_context(request, project, notice=notice),
        )
        response["HX-Trigger"] = "queue-changed"
        return response
    if notice:
        messages.success(request, notice)
    url = reverse("project-detail", args=[project.pk])
    page = request.POST.get("page", "")
    return redirect(f"{url}?page={page}" if page.isdigit() and page != "1" else url)


def _priority_words(priority) -> str:
    return "none" if priority is None else str(priority)


@require_POST
@role_required(Role.MANAGER)
@page_errors
def batch_priority(request, project_id: str, batch_id: str):
    project, batch = _project_and_batch(project_id, batch_id)
    raw = request.POST.get("priority", "").strip()
    form = BatchPriorityForm(request.POST)
    try:
        if not form.is_valid():
            raise first_error(form)
        old = batch.priority
        batch = services.batch_update(batch=batch, **form.cleaned_data)
    except ApplicationError as exc:
        messages.error(request, f"{batch.name}: {exc.message}")
        if request.htmx:
            # The reason is shown under the field that was wrong (this batch's priority).
            return render(
                request,
                "batches/project_detail.html#batch-table",
                _project_context(
                    request, project, error_batch=batch.pk, error=exc.message, bad_value=raw
                ),
            )
        return _after_batch_edit(request, project)
    if batch.priority == old:
        notice = f"{batch.name}: priority unchanged ({_priority_words(old)})."
    else:
        notice = (
            f"{batch.name}: priority {_priority_words(old)} → {_priority_words(batch.priority)}."
        )
    return _after_batch_edit(request, project, notice)


@require_POST
@role_required(Role.MANAGER)
@page_errors
def batch_move(request, project_id: str, batch_id: str):
    project, batch = _project_and_batch(project_id, batch_id)
    form = BatchMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form).message)
        return _after_batch_edit(request, project)
    direction = form.cleaned_data["direction"]
    changes = services.batch_move(batch=batch, **form.cleaned_data)
    if not changes:
        notice = f"{batch.name} is already {'first' if direction == 'up' else 'last'}."
    else:
        words = ", ".join(
            f"{b.name} {_priority_words(old)} → {_priority_words(new)}" for b, old, new in changes
        )
        notice = f"Moved {batch.name} {direction}. Priorities: {words}."
    return _after_batch_edit(request, project, notice)


@role_required(Role.MANAGER)
@page_errors
def batch_new(request, project_id: str):
    project = project_get(project_id=project_id)
    context = {"project": project, "form": request.POST, "form_fields": BATCH_FIELDS}
    if request.method == "POST":
        form = BatchForm(request.POST, request.FILES)
        try:
            if not form.is_valid():
                raise first_error(form)
            batch, failed = services.batch_create(
                project=project, user=request.user, **form.service_arguments()
            )
        except ApplicationError as exc:
            context["error"] = exc
        else:
            if batch is not None:
                messages.success(
                    request,
                    f"Batch {batch.name!r} created with {batch.size} rows"
                    + (f"; {len(failed)} rows failed." if failed else "."),
                )
                if not failed:
                    return redirect("project-detail", project_id=project.pk)
            context.update(batch=batch, failed=failed[:200], failed_count=len(failed))
    return render(request, "batches/batch_form.html", context)


FROM_DATASET_FIELDS = (
    "name_prefix",
    "dataset_id",
    "version_id",
    "priority",
    "number_of_labels",
    "coverage_percentage",
    "consensus_settings",
)
BATCH_FIELDS = ("name", "priority", "number_of_labels", "coverage_percentage", "consensus_settings")


@role_required(Role.MANAGER)
@page_errors
def batches_from_dataset(request, project_id: str):
    project = project_get(project_id=project_id)
    data = request.POST if request.method == "POST" else request.GET
    dataset_id = data.get("dataset_id") or ""
    # More datasets than a select holds: a name search narrows it (the chosen one stays).
    dataset_q = (data.get("dataset_q") or "").strip()[:CHOICES_SEARCH_MAX_LENGTH]
    datasets, more_datasets = dataset_choices(name=dataset_q, chosen=dataset_id)
    versions, more_versions = version_choices(
        dataset_id=dataset_id, chosen=data.get("version_id") or ""
    )
    context = {
        "project": project,
        "datasets": datasets,
        "more_datasets": more_datasets,
        "dataset_q": dataset_q,
        "versions": versions,
        "more_versions": more_versions,
        "choices_max": CHOICES_MAX,
        "dataset_id": dataset_id,
        "form": request.POST,
        "form_fields": FROM_DATASET_FIELDS,
    }
    if request.htmx and request.method == "GET":
        return render(request, "batches/from_dataset.html#version-select", context)
    # "Show its versions" (the way without JavaScript): the form again, with the chosen
    # dataset's versions and every value kept; nothing is created.
    if request.method == "POST" and request.POST.get("action") != "show-versions":
        form = FromDatasetForm(request.POST)
        try:
            if not form.is_valid():
                raise first_error(form)
            job = services.batches_create_from_dataset(
                project=project, user=request.user, **form.service_arguments()
            )
        except ApplicationError as exc:
            context["error"] = exc
        else:
            # The job may already have run (it starts when the transaction commits): show it
            # as it is now, not as it was created.
            job.refresh_from_db()
            context["job"] = jobs_describe([job])[0]
    return render(
        request,
        "batches/from_dataset.html",
        context,
        status=400 if context.get("error") else 200,
    )


def _confirm_page(request, project, batch, *, verb: str, status: int = 200, **extra):
    """The confirmation of a destructive verb on a batch: what it holds now (labels, labelled
    rows), with `extra` (a preview, an error)."""
    context = {
        "project": project,
        "batch": batch,
        "labels": batch_labels_count(batch=batch),
        "labelled_rows": batch_labelled_rows_count(batch=batch),
        "verb": verb,
        **extra,
    }
    return render(request, "batches/confirm.html", context, status=status)


def confirmed(verb: str, *, preview=None):
    """A manager's verb on a batch behind a confirmation page: GET shows it (with `preview(batch)`
    if given), POST runs the decorated action(request, project, batch)."""

    def decorate(action):
        @role_required(Role.MANAGER)
        @page_errors
        @wraps(action)
        def view(request, project_id: str, batch_id: str):
            project, batch = _project_and_batch(project_id, batch_id)
            if request.method == "POST":
                return action(request, project, batch)
            extra = {} if preview is None else preview(batch)
            return _confirm_page(request, project, batch, verb=verb, **extra)

        return view

    return decorate


@confirmed("delete-labels")
def batch_delete_labels(request, project, batch):
    form = DeleteLabelsForm(request.POST)
    form.is_valid()  # a checkbox: always valid
    result = services.batch_delete_labels(batch=batch, **form.cleaned_data, user=request.user)
    if isinstance(result, Job):
        messages.success(request, "Deleting the labels in the background.")
        return redirect("job-detail", job_id=result.pk)
    deleted, requeued = result["labels_deleted"], result["rows_requeued"]
    messages.success(
        request,
        f"{deleted} label{pluralize(deleted)} deleted; "
        f"{requeued} row{pluralize(requeued)} re-queued for labeling.",
    )
    return redirect("project-detail", project_id=project.pk)


@confirmed("delete")
def batch_delete(request, project, batch):
    try:
        services.batch_delete(batch=batch)
    except ApplicationError as exc:
        # Labels may have arrived since the confirmation was shown: state it as it is now.
        batch = batch_get(project=project, batch_id=batch.pk)
        return _confirm_page(
            request, project, batch, verb="delete", error=exc.message, status=exc.status_code
        )
    messages.success(request, f"Batch {batch.name!r} deleted; its data rows stay.")
    return redirect("project-detail", project_id=project.pk)


@confirmed("remove-queued", preview=lambda batch: {"removal": batch_removal_preview(batch=batch)})
def batch_remove_queued(request, project, batch):
    """GET: what removing the queued rows will do; POST: remove them."""
    result = services.batch_remove_queued_data_rows(batch=batch)
    messages.success(request, f"Batch {batch.name!r}: {services.removed_text(result)}.")
    return redirect("batch-detail", project_id=project.pk, batch_id=batch.pk)


ROWS_PER_PAGE = 50


@role_required(Role.VIEWER)
@page_errors
def batch_page(request, project_id: str, batch_id: str):
    """One batch: its facts, progress by state, consensus, its rows (paged, by state), the
    latest labels (managers), its own export and the verbs behind confirmations."""
    project, batch = _project_and_batch(project_id, batch_id)
    state = request.GET.get("state", "")
    state = state if state in BATCH_ROW_STATES else ""
    page = Paginator(batch_rows(batch=batch, state=state), ROWS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    is_manager = user_has_role(request.user, Role.MANAGER)
    versions = frame_versions(batch=batch, rows=page.object_list)
    rows = [
        {"entry": entry, "version": versions.get(entry.data_row.dataset_id)}
        for entry in page.object_list
    ]
    context = {
        "project": project,
        "batch": batch,
        "states": batch_state_counts(batch=batch),
        "state": state,
        "row_states": BATCH_ROW_STATES,
        "page": page,
        "rows": rows,
        "labels_count": batch_labels_count(batch=batch),
        "recent_labels": batch_recent_labels(batch=batch) if is_manager else [],
        "is_manager": is_manager,
        "progress": batch_progress(batch),
    }
    template = "batches/batch_detail.html"
    if request.htmx and request.htmx.target == "batch-rows":
        template += "#batch-rows"
    return render(request, template, context)


@require_POST
@role_required(Role.MANAGER)
@page_errors
def project_export(request, project_id: str):
    project = project_get(project_id=project_id)
    form = ExportForm(request.POST)
    try:
        if not form.is_valid():
            raise first_error(form)
        job = services.export_start(project=project, user=request.user, **form.service_arguments())
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("project-detail", project_id=project.pk)
    return redirect("job-detail", job_id=job.pk)


@role_required(Role.LABELER)
@page_errors
def label_page(request, project_id: str):
    """GET shows the row the labeler holds (taking one is a POST). POST submits or skips it
    and reserves the next row at once, then redirects to the page that shows it (a reload
    never submits twice); a refused submit shows the same row again with the reason."""
    project = project_get(project_id=project_id)
    context: dict = {"project": project}
    if request.method == "POST":
        form = LabelForm(request.POST)
        try:
            if not form.is_valid():
                raise first_error(form)
            action, entry_id = form.cleaned_data["action"], form.cleaned_data["entry"]
            if action == "submit":
                services.label_submit(
                    project=project,
                    entry_id=entry_id,
                    user=request.user,
                    annotation=form.cleaned_data["annotation"],
                )
                messages.success(request, "Label saved.")
            elif action == "skip":
                services.queue_skip(project=project, entry_id=entry_id, user=request.user)
                messages.info(request, "Skipped; you will not get this row again.")
        except ApplicationError as exc:
            context["error"] = exc.message
        entry = services.queue_next(project=project, user=request.user)
        if "error" not in context:
            if entry is None:
                messages.info(request, "Nothing is left for you in this queue.")
            return redirect("project-label", project_id=project.pk)
        # The row just renewed, read with its batch and data row as a GET reads it.
        context["entry"] = entry and (
            reservation_held(project=project, user=request.user)
            or gold_reservation_held(project=project, user=request.user)
        )
    else:
        # A GET only shows the row the labeler already holds; taking one is a POST.
        context["entry"] = reservation_held(
            project=project, user=request.user
        ) or gold_reservation_held(project=project, user=request.user)
    entry = context["entry"]
    context["rework"] = rework_note(entry)
    if entry is not None:
        context["item"] = label_item(entry=entry)
        if entry.template is not None:
            context["template_json"] = json.dumps(entry.template, indent=2)
    context["today"] = labeler_today(project=project, user=request.user)
    context["classes"] = [
        {"name": c, "key": str(i + 1) if i < 9 else ""} for i, c in enumerate(project.label_classes)
    ]
    return render(
        request, "batches/label.html", context, status=400 if context.get("error") else 200
    )
