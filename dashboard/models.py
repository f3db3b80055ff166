"""The core models: `Job` (one background operation) and its per-row `JobError`s.

A Job row is the truth for background work; the django-q2 task only carries its id.
"""

from django.conf import settings
from django.db import models

from .ids import new_id

COUNT_KEYS = ("created", "updated", "unchanged", "deleted", "failed")


class PublicModel(models.Model):
    """Base of every object the API exposes: an opaque time-sortable id, creator and times."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def empty_counts() -> dict:
    return dict.fromkeys(COUNT_KEYS, 0)


class Job(PublicModel):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    ENDED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)
    RUN_AGAIN = (Status.FAILED, Status.CANCELLED)

    kind = models.CharField(max_length=64, db_index=True)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True, blank=True)
    counts = models.JSONField(default=empty_counts, blank=True)
    # Where a retried task resumes: written in the same transaction as the chunk it follows.
    checkpoint = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why the job failed, when it did.")
    errors_count = models.BigIntegerField(default=0)
    file = models.FileField(upload_to="jobs/", blank=True)
    attempts = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress_done__gte=0), name="job_progress_done_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def is_ended(self) -> bool:
        return self.status in self.ENDED

    @property
    def can_run_again(self) -> bool:
        return self.status in self.RUN_AGAIN

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 100 if self.is_ended else 0
        return min(100, int(100 * self.progress_done / self.progress_total))


class JobError(models.Model):
    """One failed input record of a job: where it was, what it was, and why it failed."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="row_errors")
    index = models.BigIntegerField(null=True, blank=True, help_text="0-based position in the input")
    key = models.CharField(max_length=255, blank=True)
    input = models.JSONField(null=True, blank=True)
    message = models.TextField()
    error_type = models.CharField(max_length=64, default="validation")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["job", "index"], name="joberror_job_index")]

    def __str__(self) -> str:
        return f"{self.job_id}[{self.index}]: {self.message}"
