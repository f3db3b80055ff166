"""Runs one job: start → handler → finish (succeeded / failed / cancelled).

Delivery is at least once (django-q2 hands a task out again when its worker dies), so a job is
resumable: a handler works in chunks, and each chunk's writes, the job's progress, counts,
per-row errors and the checkpoint (where to resume) commit in ONE transaction. A retried task
reads the checkpoint and continues after the last committed chunk: nothing is lost or done twice.
The transaction that ends a job records its `job.succeeded|failed|cancelled` event.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from dashboard.errors import ApplicationError
from dashboard.events import event_record, events_actor
from dashboard.models import COUNT_KEYS, Job, JobError

from .registry import job_kind_get

log = logging.getLogger(__name__)

PROGRESS_WRITE_INTERVAL = 0.5  # seconds between progress-only writes


class JobCancelled(Exception):
    """Raised between chunks when a cancel was requested."""


class JobFailed(ApplicationError):
    """A handler's way to end the job as failed with a message (row errors already recorded)."""


class Chunk:
    """What one chunk did; committed with the chunk's own writes."""

    def __init__(self, run: JobRun):
        self.run = run
        self.done = 0
        self.counts: dict[str, int] = {}
        self.errors: list[JobError] = []
        self.checkpoint: dict[str, Any] | None = None

    def count(self, key: str, n: int = 1) -> None:
        if key not in COUNT_KEYS:
            raise ValueError(f"unknown count {key!r}")
        self.counts[key] = self.counts.get(key, 0) + n

    def error(
        self,
        *,
        index: int | None,
        message: str,
        key: str = "",
        input: Any = None,
        error_type: str = "validation",
    ) -> None:
        self.errors.append(
            JobError(
                job_id=self.run.job.pk,
                index=index,
                key=str(key)[:255],
                input=input,
                message=message,
                error_type=error_type,
            )
        )
        self.count("failed")


class JobRun:
    """The handler's view of its job: parameters, checkpoint, chunks, progress, result file."""

    def __init__(self, job: Job):
        self.job = job
        self._last_write = 0.0

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    @property
    def checkpoint(self) -> dict[str, Any]:
        return self.job.checkpoint or {}

    def set_total(self, total: int) -> None:
        self.job.progress_total = total
        Job.objects.filter(pk=self.job.pk).update(progress_total=total, updated_at=timezone.now())

    def check_cancelled(self) -> None:
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise JobCancelled

    @contextmanager
    def chunk(self) -> Iterator[Chunk]:
        """One unit of work: its writes and the job's bookkeeping commit together."""
        self.check_cancelled()
        chunk = Chunk(self)
        with transaction.atomic():
            yield chunk
            job = self.job
            job.progress_done += chunk.done
            for key, n in chunk.counts.items():
                job.counts[key] = job.counts.get(key, 0) + n
            if chunk.errors:
                JobError.objects.bulk_create(chunk.errors)
                job.errors_count += len(chunk.errors)
            if chunk.checkpoint is not None:
                job.checkpoint = chunk.checkpoint
            job.updated_at = timezone.now()
            Job.objects.filter(pk=job.pk).update(
                progress_done=job.progress_done,
                counts=job.counts,
                errors_count=job.errors_count,
                checkpoint=job.checkpoint,
                updated_at=job.updated_at,
            )
        self._last_write = time.monotonic()

    def progress(self, done: int, *, force: bool = False) -> None:
        """Progress for work that is not chunked; written at most twice a second."""
        self.job.progress_done = done
        now = time.monotonic()
        if force or now - self._last_write >= PROGRESS_WRITE_INTERVAL:
            Job.objects.filter(pk=self.job.pk).update(progress_done=done, updated_at=timezone.now())
            self._last_write = now

    def attach_file(self, name: str, fileobj) -> None:
        """Store the job's output file (exports) under MEDIA_ROOT."""
        if self.job.file:
            self.job.file.delete(save=False)
        self.job.file.save(name, File(fileobj), save=False)
        Job.objects.filter(pk=self.job.pk).update(file=self.job.file.name)


def _start(job_id: str) -> Job | None:
    """Claim the job for this attempt; None when there is nothing (more) to do."""
    max_attempts = settings.Q_CLUSTER.get("max_attempts") or 0
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_ended:
            return None
        now = timezone.now()
        if job.cancel_requested:
            job.status, job.finished_at = Job.Status.CANCELLED, now
            job.save(update_fields=["status", "finished_at", "updated_at"])
            job_event_record(job)
            return None
        job.attempts += 1
        if max_attempts and job.attempts >= max_attempts and job.attempts > 1:
            # The last delivery django-q2 will make: earlier attempts died (worker killed or
            # timed out), so end the job cleanly instead of leaving it "running" forever.
            job.status, job.finished_at = Job.Status.FAILED, now
            job.error = (
                f"The worker stopped during {job.attempts - 1} earlier attempts; "
                "work committed so far is kept. Run the job again to finish it."
            )
            job.save(update_fields=["status", "finished_at", "error", "attempts", "updated_at"])
            job_event_record(job)
            return None
        job.status = Job.Status.RUNNING
        job.started_at = job.started_at or now
        job.save(update_fields=["status", "started_at", "attempts", "updated_at"])
    return job


def _finish(job: Job, status: str, *, result: Any = None, error: str = "") -> None:
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(
            status=status,
            result=result,
            error=error,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
            progress_done=job.progress_done,
        )
        job.refresh_from_db(fields=["status", "counts", "result", "error", "created_by"])
        job_event_record(job)


def job_event_record(job: Job) -> None:
    """The event of a job that has just ended (call inside the transaction that ends it)."""
    params = job.params or {}
    event_record(
        type=f"job.{job.status}",
        actor=job.created_by,
        project=params.get("project_id") if isinstance(params.get("project_id"), str) else None,
        dataset=job_dataset(params),
        object_type="job",
        object_id=job.pk,
        data={"kind": job.kind, "counts": job.counts, "result": job.result},
    )


def job_dataset(params: dict) -> str | None:
    """The dataset a job works on: named in its params, or the dataset of the version it works
    on (row updates and deletes, recounts name only the version), so `?dataset=` finds it."""
    dataset = params.get("dataset_id")
    if isinstance(dataset, str) and dataset:
        return dataset
    version = params.get("version_id")
    if not isinstance(version, str) or not version:
        return None
    DatasetVersion = apps.get_model("versions", "DatasetVersion")  # dashboard imports no app
    return DatasetVersion.objects.filter(pk=version).values_list("dataset_id", flat=True).first()


def run_job(job_id: str) -> str | None:
    """Run (or resume) the job; returns its final status."""
    job = _start(job_id)
    if job is None:
        return None
    run = JobRun(job)
    try:
        with events_actor(job.created_by):  # the events of its work name who started it
            result = job_kind_get(job.kind).handler(run)
    except JobCancelled:
        _finish(job, Job.Status.CANCELLED, error="Cancelled by request.")
        return Job.Status.CANCELLED
    except ApplicationError as exc:
        _finish(job, Job.Status.FAILED, error=exc.message)
        return Job.Status.FAILED
    except Exception as exc:  # noqa: BLE001 - every failure ends the job the same way
        log.exception("job %s (%s) failed", job.pk, job.kind)
        _finish(job, Job.Status.FAILED, error=f"Internal error: {internal_reason(exc)}")
        return Job.Status.FAILED
    job.refresh_from_db(fields=["progress_done", "progress_total"])
    if job.progress_total is None:
        Job.objects.filter(pk=job.pk).update(progress_total=job.progress_done)
    _finish(job, Job.Status.SUCCEEDED, result=result)
    return Job.Status.SUCCEEDED


# An absolute path in an exception's text (`/srv/labelops/media/imports/x.csv`): users see its
# last part only, never where files lie on the server. One class per step: linear time.
ABSOLUTE_PATH = re.compile(r"(?:/[^\s'\"/]+)+/?")


def internal_reason(exc: Exception) -> str:
    """The reason an unexpected error gives users: its type and message, paths shortened."""
    message = ABSOLUTE_PATH.sub(lambda m: PurePosixPath(m.group()).name, str(exc))
    return f"{type(exc).__name__}: {message}"
