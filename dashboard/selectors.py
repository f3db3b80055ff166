"""Reads on jobs."""

from django.db.models import QuerySet

from dashboard.errors import NotFound
from dashboard.models import Job
from dashboard.roles import Role, user_has_role


def job_list() -> QuerySet[Job]:
    return Job.objects.select_related("created_by")


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
