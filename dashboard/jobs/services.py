"""Writes on jobs: create-and-enqueue, cancel, run again, fail the stale (with their
`job.*` event)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from dashboard.errors import Conflict
from dashboard.models import Job

from .registry import job_kind_get
from .runner import job_event_record

TASK_PATH = "dashboard.jobs.tasks.run_job"


def job_create(
    *, kind: str, params: dict[str, Any] | None = None, user=None, total: int | None = None
) -> Job:
    """Record a job and enqueue it once the surrounding transaction commits."""
    job_kind_get(kind)  # refuse unknown kinds before anything is written
    job = Job.objects.create(
        kind=kind,
        params=params or {},
        created_by=user if user and user.pk else None,
        progress_total=total,
    )
    transaction.on_commit(lambda: job_enqueue(job_id=job.id))
    return job


def job_enqueue(*, job_id: str) -> None:
    async_task(
        TASK_PATH,
        job_id,
        task_name=f"job-{job_id}",
        timeout=settings.Q_CLUSTER["timeout"],
    )


def job_cancel(*, job: Job) -> Job:
    """Cancel a job: a queued one at once, a running one at its next chunk boundary."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.is_ended:
            raise Conflict(f"The job has already ended ({job.status}).")
        job.cancel_requested = True
        fields = ["cancel_requested", "updated_at"]
        if job.status == Job.Status.QUEUED:
            job.status = Job.Status.CANCELLED
            job.finished_at = timezone.now()
            fields += ["status", "finished_at"]
        job.save(update_fields=fields)
        if job.is_ended:
            job_event_record(job)
    return job


def job_retry(*, job: Job) -> Job:
    """Run a failed or cancelled job again. It resumes after its last committed chunk (the
    checkpoint, progress, counts and row errors so far are kept), so nothing is done twice."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if not job.can_run_again:
            raise Conflict(
                f"Only a failed or cancelled job can run again; this one is {job.status}."
            )
        job.status = Job.Status.QUEUED
        job.attempts = 0
        job.cancel_requested = False
        job.error = ""
        job.result = None
        job.finished_at = None
        job.save(
            update_fields=[
                "status",
                "attempts",
                "cancel_requested",
                "error",
                "result",
                "finished_at",
                "updated_at",
            ]
        )
        transaction.on_commit(lambda: job_enqueue(job_id=job.id))
    return job


STALE_GRACE_SECONDS = 120


def jobs_reap() -> int:
    """Fail jobs that stopped without finishing and will not be delivered again: a task killed
    by django-q2's timeout is acknowledged, so nothing would ever end its job. A job is stale
    when it has not been touched for longer than a redelivery would take (`retry`); a worker
    that merely died gets its task back before that and resumes. Scheduled every 5 minutes."""
    from datetime import timedelta

    stale_before = timezone.now() - timedelta(
        seconds=settings.Q_CLUSTER["retry"] + STALE_GRACE_SECONDS
    )
    stale = Job.objects.filter(status=Job.Status.RUNNING, updated_at__lt=stale_before)
    reaped = 0
    for job_id in stale.values_list("id", flat=True):
        with transaction.atomic():
            if not stale.filter(pk=job_id).update(
                status=Job.Status.FAILED,
                finished_at=timezone.now(),
                updated_at=timezone.now(),
                error=(
                    "The job stopped without finishing (its worker timed out or was lost). "
                    "Work committed so far is kept; run it again to finish."
                ),
            ):
                continue
            job_event_record(Job.objects.get(pk=job_id))
            reaped += 1
    return reaped
