"""Reads on jobs."""

from django.db.models import QuerySet

from dashboard.errors import NotFound
from dashboard.models import Job


def job_list() -> QuerySet[Job]:
    return Job.objects.select_related("created_by")


def job_get(*, job_id: str) -> Job:
    job = Job.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"No job with id {job_id!r}.")
    return job
