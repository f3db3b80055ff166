"""Core pages: overview, jobs (list, detail with live progress), profile with the API token."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling
from rest_framework.authtoken.models import Token

from .errors import ApplicationError
from .filters import JobFilter
from .jobs.services import job_cancel, job_retry
from .models import Job
from .overview import overview_activity, overview_counts, overview_panels
from .roles import Role, role_required
from .selectors import job_file_readable, job_get, job_list_summary

JOBS_PER_PAGE = 25


@role_required(Role.VIEWER)
def overview(request):
    context = {
        "counts": overview_counts(),
        "panels": overview_panels(),
        "activity": overview_activity(limit=15),
        "active_jobs": job_list_summary().exclude(status__in=Job.ENDED)[:10],
    }
    return render(request, "dashboard/overview.html", context)


@role_required(Role.VIEWER)
def jobs_page(request):
    filterset = JobFilter(request.GET, queryset=job_list_summary())
    page = Paginator(filterset.qs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    template = "dashboard/job_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#job-table"
    return render(request, template, {"filter": filterset, "page": page})


@role_required(Role.VIEWER)
def job_page(request, job_id: str):
    job = job_get(job_id=job_id)
    context = {
        "job": job,
        "row_errors": job.row_errors.all()[:100],
        "file_readable": job_file_readable(job=job, user=request.user),
    }
    if request.htmx and request.htmx.target == f"job-{job.pk}":
        response = render(request, "dashboard/job_detail.html#job-progress", context)
        if job.is_ended:
            # The finished partial has no hx-trigger AND answers 286: polling stops either way.
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "dashboard/job_detail.html", context)


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
