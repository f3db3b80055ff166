"""Labeler analytics kept current (rollups): per (project, labeler, hour) the labels written
in that hour by status, the skips, and the sums behind the agreement and gold-score means; per
(project, labeler, day, seconds bucket) how many labels took that long, so the median is
found exactly (`batches/rollups.py` reads them, `batches/services/rollups.py` writes them)."""

from django.conf import settings
from django.db import models


class LabelerHour(models.Model):
    """What one labeler did in one hour (UTC) of a project, by the label's `created_at`: its
    status counts as they are now, skips, and the sum and number of non-null agreements and
    gold scores. Moved by every service that writes labels or skips, in its transaction."""

    project = models.ForeignKey(
        "batches.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # 1: the hour starting at `hour`; 24: the whole day starting at `hour` (the sum of its
    # hours, so a long range reads a row per day, not per hour).
    span = models.PositiveSmallIntegerField(default=1)
    hour = models.DateTimeField()
    labels = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    pending_review = models.IntegerField(default=0)
    skips = models.IntegerField(default=0)
    agreement_sum = models.FloatField(default=0)
    agreement_n = models.IntegerField(default=0)
    gold_sum = models.FloatField(default=0)
    gold_n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "author", "span", "hour"], name="labelerhour_once"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "span", "hour"], name="labelerhour_project_hour")
        ]

    def __str__(self) -> str:
        return f"{self.author_id} {self.hour:%Y-%m-%d %H}h: {self.labels}"


class LabelerSeconds(models.Model):
    """How many of one labeler's labels of one day (UTC) took a `seconds` value in one bucket
    (`batches.rollups.seconds_bucket`: 5–50 % wide): the median is found in these counts, then
    read exactly among the few labels of its bucket (index `label_project_author_seconds`)."""

    project = models.ForeignKey(
        "batches.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # 1: the day starting at `day`; 31: the calendar month starting at `day` (its days' sum).
    span = models.PositiveSmallIntegerField(default=1)
    day = models.DateTimeField()
    bucket = models.IntegerField()
    labels = models.IntegerField(default=0)

    class Meta:
        verbose_name_plural = "labeler seconds"
        constraints = [
            models.UniqueConstraint(
                fields=["project", "author", "span", "day", "bucket"],
                name="labelerseconds_once",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "span", "day"], name="labelerseconds_project_day")
        ]

    def __str__(self) -> str:
        return f"{self.author_id} {self.day:%Y-%m-%d} bucket {self.bucket}: {self.labels}"


class RollupStale(models.Model):
    """A project whose labels were edited outside the services (a label's time, author, seconds
    or project changed in SQL: data repair, fixtures), marked by a database trigger: the next
    analytics read counts its rollups again (`rollups_rebuild`)."""

    project = models.OneToOneField(
        "batches.Project", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"rollups of {self.project_id} stale"
