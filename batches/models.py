"""Labeling projects, batches, the labeling queue, labels and skips.

The queue holds one `QueueEntry` per (project, data row), with a denormalised `sort_priority`
(row override, else batch priority, else after every int32) so `next` is one indexed statement.
"""

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from dashboard.errors import INT32_MAX, INT32_MIN
from dashboard.models import PublicModel
from versions.models import DataRow, Dataset, DatasetVersion

# Bounds of the inputs, checked by every door (API input serializers, page forms, admin forms).
NAME_MAX_LENGTH = 255  # a project's or batch's name
NAME_PREFIX_MAX_LENGTH = 240  # room for the batch number appended to a prefix
RESERVATION_SECONDS_MIN = 10
RESERVATION_SECONDS_MAX = 7 * 24 * 3600  # a week
CONSENSUS_MAX_LABELS = 100
REVIEW_REASON_MAX_LENGTH = 2000  # a reviewer's reason for a rejection

# A project's settings: what `project_create` / `project_update` take, the API, the admin and
# the project form edit.
PROJECT_SETTINGS = (
    "name",
    "description",
    "label_classes",
    "reservation_seconds",
    "review_percentage",
    "agreement_threshold",
    "gold_percentage",
)


def validate_label_classes(classes) -> list[str]:
    """A project's ontology: unique, non-empty strings (None is none). Every door checks it."""
    if classes is None:
        return []
    if not isinstance(classes, list) or not all(isinstance(c, str) and c.strip() for c in classes):
        raise ValidationError("Must be a list of non-empty strings.")
    if len(set(classes)) != len(classes):
        raise ValidationError("Label classes must be unique.")
    return list(classes)


def validate_annotation(annotation) -> dict:
    """A label's annotation: a JSON object whose `classes`, if any, is a list of strings."""
    if not isinstance(annotation, dict):
        raise ValidationError("Must be a JSON object.")
    classes = annotation.get("classes")
    if classes is not None and (
        not isinstance(classes, list) or not all(isinstance(c, str) for c in classes)
    ):
        raise ValidationError("classes must be a list of strings.")
    return annotation


def review_chosen(*, project_id: str, data_row_id: str, share: float) -> bool:
    """Whether the row's labels await review under the project's `review_percentage`: a
    reproducible choice per (project, data row), a hash like consensus coverage's."""
    if share <= 0:
        return False
    digest = hashlib.sha1(f"review:{project_id}:{data_row_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


# Rows with no priority sort after every int32 priority ("lowest" default).
NO_PRIORITY_SORT = INT32_MAX + 1
# A row re-queued for rework without a priority is served before every other row.
REWORK_SORT = INT32_MIN - 1


def batch_sort_value(priority: int | None) -> int:
    """The `sort_priority` of a batch's rows without an override."""
    return NO_PRIORITY_SORT if priority is None else priority


def _int32(field: str) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(
        **{f"{field}__gte": INT32_MIN, f"{field}__lte": INT32_MAX}
    )


def _owner(to, related_name: str = "+") -> models.ForeignKey:
    """The project, batch or data row a row belongs to (deleted with it), without an index of
    its own: the model's composite indexes serve its lookups (an index is one more write on
    every insert)."""
    return models.ForeignKey(
        to, on_delete=models.CASCADE, related_name=related_name, db_index=False
    )


def _optional_user() -> models.ForeignKey:
    """A user the row names for a while (a holder, a reviewer); null once they are deleted.
    No index of its own: a partial one where a lookup needs it."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )


class Project(PublicModel):
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    label_classes = models.JSONField(default=list, blank=True, help_text="The ontology")
    reservation_seconds = models.PositiveIntegerField(
        default=600, help_text="How long a labeler holds a row before it returns to the queue"
    )
    review_percentage = models.FloatField(
        default=0,
        db_default=0,
        help_text="The share (0–1) of data rows whose labels await review, chosen "
        "reproducibly per (project, data row)",
    )
    agreement_threshold = models.FloatField(
        null=True,
        blank=True,
        help_text="A consensus row whose agreement is below it (0–1) when its last required "
        "label arrives is escalated to review; empty: never",
    )
    gold_percentage = models.FloatField(
        default=0,
        db_default=0,
        help_text="The share (0–1) of a labeler's next rows that are gold rows while they have "
        "gold rows left",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(review_percentage__gte=0, review_percentage__lte=1),
                name="project_review_percentage_0_1",
            ),
            models.CheckConstraint(
                condition=Q(agreement_threshold__isnull=True)
                | Q(agreement_threshold__gte=0, agreement_threshold__lte=1),
                name="project_agreement_threshold_0_1",
            ),
            models.CheckConstraint(
                condition=Q(gold_percentage__gte=0, gold_percentage__lte=1),
                name="project_gold_percentage_0_1",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Batch(PublicModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="batches")
    name = models.CharField(max_length=255)
    priority = models.IntegerField(null=True, blank=True, help_text="1 is served before 2")
    consensus_settings = models.JSONField(
        null=True, blank=True, help_text='{"number_of_labels": n, "coverage_percentage": p}'
    )
    size = models.PositiveIntegerField(default=0)
    dataset = models.ForeignKey(
        Dataset, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.ForeignKey(
        DatasetVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "batches"
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"], name="batch_name_unique_in_project"
            ),
            models.CheckConstraint(condition=_int32("priority"), name="batch_priority_int32"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def consensus_text(self) -> str:
        """The consensus settings in words: "2 labels on 25% of rows" (or "" without)."""
        settings = self.consensus_settings or {}
        labels, coverage = settings.get("number_of_labels"), settings.get("coverage_percentage")
        if not labels:
            return ""
        share = "every row" if coverage in (None, 1) else f"{coverage * 100:g}% of rows"
        return f"{labels} labels on {share}"


class QueueEntry(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued"
        RESERVED = "reserved"
        DONE = "done"

    # Every index is written on every reservation and submit (they change `state`, which the
    # serving index covers, so no update is HOT): the queue keeps only the indexes its queries
    # use. Project and batch lookups use the composite indexes below.
    project = _owner(Project, "queue_entries")
    batch = _owner(Batch, "queue_entries")
    data_row = _owner(DataRow, "queue_entries")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    priority_override = models.IntegerField(null=True, blank=True)
    # Effective priority: override, else batch priority, else NO_PRIORITY_SORT. The id is the
    # first-in, first-out tie-breaker.
    sort_priority = models.BigIntegerField(default=NO_PRIORITY_SORT)
    labels_required = models.PositiveSmallIntegerField(default=1)
    labels_count = models.PositiveSmallIntegerField(default=0)
    reserved_by = _optional_user()
    reserved_until = models.DateTimeField(null=True, blank=True)
    # When the row was served to its current holder (kept on renewal): a label's `seconds`.
    reserved_at = models.DateTimeField(null=True, blank=True)
    template = models.JSONField(
        null=True, blank=True, help_text="A deleted label kept to pre-fill the row when served"
    )
    # Quality: a consensus row whose agreement fell below the project's threshold (set by the
    # agreement service); all its labels await review and the review queue serves it first.
    escalated = models.BooleanField(default=False, db_default=False)
    # The rejected label this row was re-queued for (its annotation is the template, its
    # reason shown to whoever labels the row next); cleared by the next label. No database
    # constraint and DO_NOTHING: deleting labels stays one DELETE (no collector pass over
    # them); a note whose label was deleted is no note (`rework_note`).
    rework_label = models.ForeignKey(
        "Label",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        db_index=False,
    )
    # Quality: the mean similarity over all pairs of the row's counted (not rejected) labels,
    # null with fewer than two; kept current by every write on the row's labels.
    agreement = models.FloatField(null=True, blank=True)
    # A gold row (known answer, `GoldRow`): served through gold reservations, never by the
    # queue order, never done, not counted in batch progress.
    gold = models.BooleanField(default=False, db_default=False)
    # The row's labels awaiting review, kept by database triggers on the label table
    # (`batches/progress_triggers.py`): a done row with some is in review, not done.
    pending_labels = models.PositiveSmallIntegerField(default=0, db_default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sort_priority", "id"]
        verbose_name_plural = "queue entries"
        constraints = [
            models.UniqueConstraint(
                fields=["project", "data_row"], name="queueentry_row_once_per_project"
            ),
            models.CheckConstraint(
                condition=_int32("priority_override"), name="queueentry_override_int32"
            ),
            models.CheckConstraint(
                condition=Q(labels_count__lte=F("labels_required")),
                name="queueentry_labels_within_required",
            ),
            # A labeler holds at most one row of a project (two tabs racing on `next` cannot
            # both reserve); also the index `next` uses to find the caller's reservation.
            models.UniqueConstraint(
                fields=["project", "reserved_by"],
                condition=Q(state="reserved"),
                name="queueentry_one_reservation_per_labeler",
            ),
        ]
        indexes = [
            # Only live entries are indexed: the serving order of what still needs labels.
            models.Index(
                fields=["project", "sort_priority", "id"],
                condition=~Q(state="done"),
                name="queueentry_serving_order",
            ),
            models.Index(fields=["batch", "state"], name="queueentry_batch_state"),
            # Plain b-trees: no second `varchar_pattern_ops` copy for LIKE, which nothing runs.
            models.Index(fields=["data_row"], name="queueentry_data_row"),
            # Only held rows have a labeler: the index a user's deletion needs stays tiny.
            models.Index(
                fields=["reserved_by"],
                condition=Q(reserved_by__isnull=False),
                name="queueentry_reserved_by",
            ),
            # The few escalated rows, which the review queue serves first.
            models.Index(
                fields=["project", "data_row"],
                condition=Q(escalated=True),
                name="queueentry_escalated",
            ),
            models.Index(
                fields=["rework_label"],
                condition=Q(rework_label__isnull=False),
                name="queueentry_rework_label",
            ),
            # Agreement by project and by batch (histogram, mean, below a threshold): only
            # rows with two counted labels or more are indexed.
            models.Index(
                fields=["project", "agreement"],
                condition=Q(agreement__isnull=False),
                name="queueentry_project_agreement",
            ),
            models.Index(
                fields=["batch", "agreement"],
                condition=Q(agreement__isnull=False),
                name="queueentry_batch_agreement",
            ),
            models.Index(fields=["batch"], condition=Q(gold=True), name="queueentry_batch_gold"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}/{self.data_row_id} ({self.state})"


class Label(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted"  # final, not chosen for review
        PENDING_REVIEW = "pending_review"
        ACCEPTED = "accepted"
        REJECTED = "rejected"  # no longer counts toward the row's labels

    class Decision(models.TextChoices):
        ACCEPT = "accept"
        REJECT = "reject"

    # Written once per submit: only the indexes its queries use (project lookups go through
    # `label_once_per_author` and `label_project_status`, batch ones `label_batch_status`).
    project = _owner(Project, "labels")
    batch = _owner(Batch, "labels")
    data_row = _owner(DataRow, "labels")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="labels"
    )
    annotation = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16,
        choices=Status.choices,
        default=Status.SUBMITTED,
        db_default=Status.SUBMITTED,  # the serving statements insert labels in SQL
    )
    # From the moment the row was served to this labeler to the submit (null: not served).
    seconds = models.FloatField(null=True, blank=True)
    # The review: who decided what, why and when (empty until decided).
    reviewer = _optional_user()
    decision = models.CharField(
        max_length=8, choices=Decision.choices, blank=True, default="", db_default=""
    )
    reason = models.TextField(
        blank=True, max_length=REVIEW_REASON_MAX_LENGTH, default="", db_default=""
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # A reviewer's reservation of this label (one per reviewer per project).
    review_reserved_by = _optional_user()
    review_reserved_until = models.DateTimeField(null=True, blank=True)
    # Quality: this label's mean similarity to the row's other counted labels (null with no
    # other), and on a gold row its similarity to the gold answer.
    agreement = models.FloatField(null=True, blank=True)
    gold_score = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # A rejected label no longer counts: its author may label the row again.
            models.UniqueConstraint(
                fields=["project", "data_row", "author"],
                condition=~Q(status="rejected"),
                name="label_once_per_author",
            ),
            models.UniqueConstraint(
                fields=["project", "review_reserved_by"],
                condition=Q(review_reserved_by__isnull=False),
                name="label_one_review_reservation_per_reviewer",
            ),
        ]
        indexes = [
            # Batch lookups, and a batch's labels counted by status (index-only).
            models.Index(fields=["batch", "status"], name="label_batch_status"),
            models.Index(fields=["data_row"], name="label_data_row"),
            # The review queue (pending labels, oldest first) and counts by status.
            models.Index(fields=["project", "status", "id"], name="label_project_status"),
            models.Index(
                fields=["review_reserved_by"],
                condition=Q(review_reserved_by__isnull=False),
                name="label_review_reserved_by",
            ),
            models.Index(
                fields=["reviewer"], condition=Q(reviewer__isnull=False), name="label_reviewer"
            ),
            # Analytics: per labeler over a time range (covering on PostgreSQL: an index-only
            # scan), and throughput over time.
            models.Index(
                fields=["project", "author", "created_at"],
                include=["status", "seconds", "agreement", "gold_score"],
                name="label_project_author_time",
            ),
            # Throughput and the analytics' partial hours and days at the edges of a range
            # (index-only on PostgreSQL); whole hours and days come from the rollups.
            models.Index(
                fields=["project", "created_at"],
                include=["status", "author", "seconds", "agreement", "gold_score"],
                name="label_project_time",
            ),
            # The exact median: a labeler's labels of one seconds bucket, in order.
            models.Index(
                fields=["project", "author", "seconds"],
                include=["created_at"],
                name="label_project_author_seconds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.data_row_id} by {self.author_id}"


class Skip(models.Model):
    """A labeler passed on a row: they are never served it again."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    data_row = models.ForeignKey(DataRow, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "data_row", "user"], name="skip_once_per_user"
            ),
        ]
        indexes = [
            # Analytics: a labeler's skips over a time range.
            models.Index(fields=["project", "user", "created_at"], name="skip_project_user_time"),
        ]

    def __str__(self) -> str:
        return f"{self.data_row_id} skipped by {self.user_id}"


class JobInput(models.Model):
    """The (large) input list of a batches job, kept apart from `Job.params` so job listings
    and API answers stay small (a create_batches job may carry 1,000,000 keys)."""

    job = models.OneToOneField("dashboard.Job", on_delete=models.CASCADE, related_name="+")
    rows = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"input of {self.job_id}"


class GoldRow(models.Model):
    """A row of one of the project's batches with a known answer: each labeler is served it at
    most once (`GoldServing`), and each label on it gets its similarity to the answer."""

    project = _owner(Project, "gold_rows")
    data_row = models.ForeignKey(DataRow, on_delete=models.CASCADE, related_name="+")
    annotation = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "data_row"], name="gold_row_once"),
        ]

    def __str__(self) -> str:
        return f"gold {self.data_row_id}"


class GoldServing(models.Model):
    """A gold row served to one labeler: held (reserved) until they submit or skip it; kept
    afterwards, so nobody is served the same gold row twice."""

    class State(models.TextChoices):
        RESERVED = "reserved"
        LABELLED = "labelled"
        SKIPPED = "skipped"

    project = _owner(Project)
    data_row = models.ForeignKey(DataRow, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.RESERVED)
    served_at = models.DateTimeField()
    reserved_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "data_row", "user"], name="gold_served_once_per_user"
            ),
            # One gold row held at a time per labeler and project (also the lookup `next` uses).
            models.UniqueConstraint(
                fields=["project", "user"],
                condition=Q(state="reserved"),
                name="gold_one_reservation_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"gold {self.data_row_id} for {self.user_id} ({self.state})"


class AgreementBucket(models.Model):
    """Agreement kept current per batch: how many of its rows (with two counted labels or
    more) have an agreement in [bucket/10, (bucket+1)/10), and the sum of those agreements.
    Moved by every write of a row's agreement, so the histogram, the mean and the row count of
    a batch or a project are a sum over at most 10 rows per batch, whatever the labels."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    batch = _owner(Batch)
    bucket = models.PositiveSmallIntegerField()
    rows = models.IntegerField(default=0)
    total = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "bucket"], name="agreement_bucket_once"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.batch_id} [{self.bucket / 10:.1f}, {(self.bucket + 1) / 10:.1f}): {self.rows}"
        )


class BatchProgress(models.Model):
    """A batch's progress kept current by database triggers (`batches/progress_triggers.py`),
    so the batches list reads a few rows per batch instead of counting its rows and labels:
    labels by status, and rows done (not gold), done gold rows, and done rows with labels
    awaiting review. A batch has up to `PROGRESS_SHARDS` rows (on PostgreSQL each connection
    writes its own, so concurrent labelers never queue on one row); its counts are their sums.
    Written only by the triggers and `batch_progress_recount`."""

    batch = models.ForeignKey(
        Batch, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    shard = models.PositiveSmallIntegerField(default=0)
    submitted = models.IntegerField(default=0)
    pending_review = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    done = models.IntegerField(default=0)
    done_gold = models.IntegerField(default=0)
    in_review = models.IntegerField(default=0)

    class Meta:
        verbose_name_plural = "batch progress"
        constraints = [
            models.UniqueConstraint(fields=["batch", "shard"], name="batch_progress_shard_once"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id} #{self.shard}"


from .rollup_models import LabelerHour, LabelerSeconds, RollupStale  # noqa: E402, F401
