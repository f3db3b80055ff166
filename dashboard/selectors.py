"""Reads on jobs."""

from django.db.models import F, Q, QuerySet

from dashboard.errors import NotFound
from dashboard.models import Job, JobError
from dashboard.roles import Role, user_has_role

# A job's JSON payloads (`params`, `result`, `checkpoint`, `counts`) and its error text can
# be large: lists and feeds that do not show them never read them.
JOB_SUMMARY_FIELDS = (
    "kind",
    "status",
    "progress_done",
    "progress_total",
    "errors_count",
    "counts",
    "created_at",
    "started_at",
    "finished_at",
    "created_by__username",
)


def job_list() -> QuerySet[Job]:
    """Jobs as the API lists them (every field it shows; the resume checkpoint stays unread)."""
    return Job.objects.select_related("created_by").defer("checkpoint")


def job_list_summary() -> QuerySet[Job]:
    """Jobs for pages and feeds: kind, status, progress, counts, times and creator, and the
    small parameters their titles name (`ref_<key>`, read in the database)."""
    from .jobs.describe import ref_annotations

    return (
        Job.objects.select_related("created_by")
        .only(*JOB_SUMMARY_FIELDS)
        .annotate(**ref_annotations())
    )


JOB_SORTS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "status": ("status", "-created_at", "-id"),
    "kind": ("kind", "-created_at", "-id"),
    "failed": ("-errors_count", "-created_at", "-id"),
}


def job_search(jobs: QuerySet[Job], *, q: str = "", sort: str = "newest") -> QuerySet[Job]:
    """`jobs` (from `job_list_summary`) that `q` names (see `job_search_q`), in a `JOB_SORTS`
    order."""
    from .jobs.describe import job_search_q

    if q:
        jobs = jobs.filter(job_search_q(q))
    return jobs.order_by(*JOB_SORTS.get(sort, JOB_SORTS["newest"]))


def job_get(*, job_id: str) -> Job:
    job = Job.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"No job with id {job_id!r}.")
    return job


def job_file_readable(*, job: Job, user) -> bool:
    """A job's file (an export: it may hold every labeler's labels) is for the user who
    started the job and for managers."""
    if user_has_role(user, Role.MANAGER):
        return True
    return job.created_by_id is not None and job.created_by_id == getattr(user, "pk", None)


# A job's row errors in input order: by `index` (errors without one last), then by id.
JOB_ERROR_ORDER = (F("index").asc(nulls_last=True), "id")


def job_errors(*, job: Job) -> QuerySet[JobError]:
    """The job's row errors in input order (the jobs page and `jobs/{id}/errors/` alike)."""
    return job.row_errors.order_by(*JOB_ERROR_ORDER)


def job_errors_from(
    *, job: Job, index: int | None, error_id: int, backward: bool = False
) -> QuerySet[JobError]:
    """The row errors after the one at (`index`, `error_id`) in input order; `backward`: those
    before it, nearest first (a keyset page in either direction)."""
    errors = job.row_errors.all()
    if backward:
        if index is None:
            before = Q(index__isnull=False) | Q(index__isnull=True, id__lt=error_id)
        else:
            before = Q(index__lt=index) | Q(index=index, id__lt=error_id)
        return errors.filter(before).order_by(F("index").desc(nulls_first=True), "-id")
    if index is None:
        after = Q(index__isnull=True, id__gt=error_id)
    else:
        after = Q(index__gt=index) | Q(index=index, id__gt=error_id) | Q(index__isnull=True)
    return errors.filter(after).order_by(*JOB_ERROR_ORDER)
