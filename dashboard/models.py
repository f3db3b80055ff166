"""The core models: `Job` (one background operation) and its per-row `JobError`s; the event
log (`Event`) and the webhooks it feeds (`Webhook`, and `Delivery`, the outbox).

A Job row is the truth for background work; the django-q2 task only carries its id.
"""

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from .ids import new_id

COUNT_KEYS = ("created", "updated", "unchanged", "deleted", "failed")
# The parameters naming an object that the jobs list searches by (`job_ref_search`).
JOB_PARAMS_SEARCHED = ("dataset_id", "version_id", "project_id", "batch_id")


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
        # The jobs list's search finds jobs by the objects their params name (`job_search_q`:
        # `params -> 'batch_id' IN (…)`): indexed, it reads the matching jobs, not every job's
        # params (which may be large) on every search.
        indexes = [
            models.Index(KeyTransform(key, "params"), name=f"job_params_{key}")
            for key in JOB_PARAMS_SEARCHED
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

    @property
    def outcome(self) -> str:
        """The status as people should read it. A job in *continue* mode whose rows failed
        ends `succeeded` (the API's contract); pages say so honestly: "finished with errors",
        or "all rows failed" when not one row went through."""
        if self.status == self.Status.SUCCEEDED and self.errors_count:
            if self.errors_count >= self.progress_done:
                return "all rows failed"
            return "finished with errors"
        return self.status

    @property
    def outcome_badge(self) -> str:
        """The badge colour of `outcome`."""
        return {"all rows failed": "failed", "finished with errors": "warning"}.get(
            self.outcome, self.status
        )

    @property
    def duration_seconds(self) -> float | None:
        """How long it ran (so far, while it runs)."""
        if self.started_at is None:
            return None
        end = self.finished_at or (None if self.is_ended else timezone.now())
        return max(0.0, (end - self.started_at).total_seconds()) if end else None

    @property
    def seconds_left(self) -> float | None:
        """An estimate of the time left of a running job, from its pace so far."""
        if self.status != self.Status.RUNNING or not self.progress_total:
            return None
        elapsed = self.duration_seconds
        if not elapsed or self.progress_done <= 0:
            return None
        left = self.progress_total - self.progress_done
        return max(0.0, elapsed * left / self.progress_done)


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


class Event(models.Model):
    """One recorded change (the audit trail, and what webhooks deliver). Written only by
    `dashboard.events.event_record`, in the transaction of the change. The project, dataset and
    actor are plain values, not foreign keys: the trail outlives what it names."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    type = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    project = models.CharField(max_length=26, blank=True)
    dataset = models.CharField(max_length=26, blank=True)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    # The outbox mark: True while the event awaits its fan-out to the webhooks that want it (the
    # workers write its deliveries and clear the mark in one transaction).
    fanout = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(fanout=True), name="event_fanout"),
            models.Index(fields=["type", "id"], name="event_type_id"),
            models.Index(fields=["project", "id"], name="event_project_id"),
            models.Index(fields=["dataset", "id"], name="event_dataset_id"),
            models.Index(fields=["actor_user_id", "id"], name="event_actor_id"),
            models.Index(fields=["at"], name="event_at"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.object_type} {self.object_id} ({self.id})"


class Webhook(PublicModel):
    """A URL that receives the events of some types (or all: "*"), optionally of one project."""

    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)
    project = models.CharField(max_length=26, blank=True)
    active = models.BooleanField(default=True)
    secret = models.CharField(max_length=128)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.url} ({', '.join(self.events)})"


class Delivery(models.Model):
    """One event sent to one webhook (the outbox row): the same id on every attempt. While a
    worker sends it, `next_attempt_at` is its lease: past it, the sweeper sends it again."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.IntegerField(null=True, blank=True)
    duration_ms = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["webhook", "id"], name="delivery_webhook_id"),
        ]
        constraints = [
            # One delivery per event and webhook: a fan-out done twice adds nothing.
            models.UniqueConstraint(fields=["event", "webhook"], name="delivery_once_per_webhook")
        ]

    def __str__(self) -> str:
        return f"{self.id} → {self.webhook_id} ({self.status})"
