"""Core pages: overview, jobs (list, detail with live progress), profile with the API token,
the Activity page (the audit trail) and the Webhooks pages (managers)."""

from django.apps import apps
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling
from rest_framework.authtoken.models import Token

from .errors import ApplicationError
from .events import events_list
from .filters import JobFilter
from .forms import form_call
from .jobs.describe import job_counts, job_results, jobs_describe
from .jobs.services import job_cancel, job_retry
from .list_controls import ListControlsForm
from .models import Job
from .overview import event_links, overview_activity, overview_counts, overview_panels
from .roles import Role, role_required
from .selectors import job_errors, job_file_readable, job_get, job_list_summary, job_search
from .webhooks import (
    delivery_get,
    delivery_redeliver,
    webhook_create,
    webhook_delete,
    webhook_deliveries,
    webhook_get,
    webhook_list,
    webhook_test,
    webhook_update,
)
from .webhooks_forms import ID_RE, ActivityForm, WebhookForm, webhook_form_values

JOBS_PER_PAGE = 25
JOB_ERRORS_SHOWN = 100


@role_required(Role.VIEWER)
def overview(request):
    active_jobs = jobs_describe(job_list_summary().exclude(status__in=Job.ENDED)[:10])
    if request.htmx and request.htmx.target == "running-jobs":
        # The running jobs refresh themselves while there are any.
        return render(request, "dashboard/overview.html#running-jobs", {"active_jobs": active_jobs})
    context = {
        "counts": overview_counts(),
        "panels": overview_panels(),
        "activity": overview_activity(limit=15),
        "active_jobs": active_jobs,
    }
    return render(request, "dashboard/overview.html", context)


@role_required(Role.VIEWER)
def jobs_page(request):
    filterset = JobFilter(request.GET, queryset=job_list_summary())
    controls = ListControlsForm(request.GET, sorts=JOB_SORT_NAMES)
    listed = controls.context()
    jobs = job_search(filterset.qs, q=listed["q"], sort=listed["sort"])
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    jobs_describe(page.object_list)
    template = "dashboard/job_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#job-table"
    running = any(not job.is_ended for job in page.object_list)
    context = {"filter": filterset, "page": page, "running": running, **listed}
    return render(request, template, context, status=controls.status(request))


# The orders of `JOB_SORTS`, as the sort box names them.
JOB_SORT_NAMES = {
    "newest": "newest",
    "oldest": "oldest",
    "status": "status",
    "kind": "kind",
    "failed": "most failed rows",
}


@role_required(Role.VIEWER)
def job_page(request, job_id: str):
    job = jobs_describe([job_get(job_id=job_id)])[0]
    readable = job_file_readable(job=job, user=request.user)
    context = {
        "job": job,
        # In input order; the page counts rows from 1 (the API's `index` is 0-based).
        "row_errors": job_errors(job=job)[:JOB_ERRORS_SHOWN],
        "file_readable": readable,
        "counts": job_counts(job),
        # A job's file (an export) is for its starter and managers: so is a link to it.
        "results": [
            (text, url)
            for text, url in job_results(job)
            if readable or url != reverse("api:job-file", args=[job.pk])
        ],
    }
    template = None
    if request.htmx and not request.htmx.boosted:
        if request.htmx.target == "job-body":
            template = "dashboard/job_detail.html#job-body"
        elif request.htmx.target == f"job-{job.pk}":  # a progress bar on another page
            template = "dashboard/_job_progress.html"
    if template is None:
        return render(request, "dashboard/job_detail.html", context)
    response = render(request, template, context)
    if job.is_ended:
        # The finished partial has no hx-trigger AND answers 286: polling stops either way.
        response.status_code = HttpResponseStopPolling.status_code
    return response


def _job_action(request, job_id: str, service, success: str):
    """Apply a job verb from the job page; its refusal shows as a message on the same page."""
    try:
        job = service(job=job_get(job_id=job_id))
        messages.success(request, success.format(job=job))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("job-detail", job_id=job_id)


@require_POST
@role_required(Role.MANAGER)
def job_cancel_view(request, job_id: str):
    return _job_action(request, job_id, job_cancel, "Cancel requested for job {job.pk}.")


@require_POST
@role_required(Role.MANAGER)
def job_retry_view(request, job_id: str):
    return _job_action(request, job_id, job_retry, "Job {job.pk} runs again from where it stopped.")


@never_cache  # the page shows the API token: no browser or proxy may keep a copy
@role_required(Role.VIEWER)
def profile(request):
    if request.method == "POST":
        Token.objects.filter(user=request.user).delete()
        Token.objects.create(user=request.user)
        messages.success(request, "A new API token was issued; the old one no longer works.")
        return redirect("profile")
    token = Token.objects.filter(user=request.user).first()
    return render(request, "dashboard/profile.html", {"token": token})


# --- the audit trail and webhooks (managers) ------------------------------------------------

ACTIVITY_PER_PAGE = 50
DELIVERIES_SHOWN = 50
WEBHOOKS_SHOWN = 500  # the newest; the API lists them all, paginated


@role_required(Role.MANAGER)
def activity_page(request):
    form = ActivityForm(request.GET or None)
    events, older = [], None
    if not form.is_bound or form.is_valid():
        clean = form.cleaned_data if form.is_bound else {}
        events = list(
            events_list(
                types=[clean["type"]] if clean.get("type") else None,
                project=clean.get("project"),
                dataset=clean.get("dataset"),
                actor=clean.get("actor"),
                since=clean.get("since"),
                until=clean.get("until"),
                before=clean.get("before"),
            )[: ACTIVITY_PER_PAGE + 1]
        )
        if len(events) > ACTIVITY_PER_PAGE:
            events = events[:ACTIVITY_PER_PAGE]
            query = request.GET.copy()
            query["before"] = events[-1].pk
            older = query.urlencode()
        event_links(events)  # links to the objects that still exist (one query per type)
    template = "dashboard/activity.html"
    if request.htmx and not request.htmx.boosted:
        template += "#activity-table"
    return render(request, template, {"form": form, "events": events, "older": older})


@never_cache  # the page shows a new webhook's secret once: no browser or proxy may keep it
@role_required(Role.MANAGER)
def webhooks_page(request):
    form = WebhookForm(request.POST if request.method == "POST" else None)
    created = None
    if request.method == "POST" and form.is_valid():
        values = webhook_form_values(form.cleaned_data)
        created = form_call(form, webhook_create, **values, user=request.user)
        if created is not None:
            form = WebhookForm()
    webhooks = list(webhook_list()[:WEBHOOKS_SHOWN])
    project_names = dict(
        apps.get_model("batches", "Project")
        .objects.filter(pk__in={w.project for w in webhooks if w.project})
        .values_list("id", "name")
    )
    for webhook in webhooks:  # its project by name, linked (its id once the project is gone)
        webhook.project_name = project_names.get(webhook.project, webhook.project)
        webhook.project_exists = webhook.project in project_names
    context = {"form": form, "webhooks": webhooks, "created": created}
    return render(request, "dashboard/webhook_list.html", context)


@role_required(Role.MANAGER)
def webhook_page(request, webhook_id: str):
    webhook = webhook_get(webhook_id=webhook_id)
    initial = {
        "url": webhook.url,
        "events": webhook.events,
        "project": webhook.project,
        "active": webhook.active,
    }
    form = WebhookForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = webhook_form_values(form.cleaned_data)
        if form_call(form, webhook_update, webhook=webhook, **values) is not None:
            messages.success(request, "Webhook saved.")
            return redirect("webhook-detail", webhook_id=webhook.pk)
    context = {
        "webhook": webhook,
        "form": form,
        **deliveries_page(request, webhook),
    }
    if request.htmx and request.htmx.target == "deliveries":
        return render(request, "dashboard/webhook_detail.html#deliveries", context)
    return render(request, "dashboard/webhook_detail.html", context)


def deliveries_page(request, webhook) -> dict:
    """The newest DELIVERIES_SHOWN deliveries, or those older than `?before=` (a delivery id;
    anything else shows the newest), with the link to the next older page."""
    before = request.GET.get("before", "")
    deliveries = webhook_deliveries(webhook=webhook)
    if ID_RE.fullmatch(before):
        deliveries = deliveries.filter(pk__lt=before)
    else:
        before = ""
    shown = list(deliveries[: DELIVERIES_SHOWN + 1])
    older = shown[DELIVERIES_SHOWN - 1].pk if len(shown) > DELIVERIES_SHOWN else None
    return {"deliveries": shown[:DELIVERIES_SHOWN], "older": older, "before": before}


@require_POST
@role_required(Role.MANAGER)
def webhook_test_view(request, webhook_id: str):
    webhook_test(webhook=webhook_get(webhook_id=webhook_id), user=request.user)
    messages.success(request, "A ping event is on its way.")
    return redirect("webhook-detail", webhook_id=webhook_id)


@require_POST
@role_required(Role.MANAGER)
def webhook_delete_view(request, webhook_id: str):
    webhook_delete(webhook=webhook_get(webhook_id=webhook_id))
    messages.success(request, "Webhook deleted.")
    return redirect("webhook-list")


@require_POST
@role_required(Role.MANAGER)
def delivery_redeliver_view(request, webhook_id: str, delivery_id: str):
    webhook = webhook_get(webhook_id=webhook_id)
    delivery_redeliver(delivery=delivery_get(webhook=webhook, delivery_id=delivery_id))
    messages.success(request, "The delivery is sent again.")
    return redirect("webhook-detail", webhook_id=webhook_id)
