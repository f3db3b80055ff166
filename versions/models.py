"""Datasets, data rows, dataset versions and their copy-on-write frame storage.

A version stores only what it changes: one `FrameEntry` per (version, data row) pointing at an
immutable `FrameRevision`, or at nothing (a tombstone: deleted in this version). A version's
frames are, for each data row, the entry of the nearest version on its ancestor chain (itself
first), minus tombstones — see `versions/copy_on_write.py`. Branching writes one version row.
"""

from django.db import models
from django.db.models import Q

from dashboard.models import PublicModel


class Dataset(PublicModel):
    name = models.CharField(max_length=255, unique=True)
    dataset_project = models.CharField(max_length=255, blank=True, help_text="Folder")
    description = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    # Typed metadata fields `[{name, type, default?, required?, options?}]` every write of the
    # dataset's rows converts and checks (`versions/metadata_schema.py`); [] = free-form.
    metadata_schema = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class DataRow(models.Model):
    """One item of a dataset (a frame's identity). Its id is the frame id in every version."""

    id = models.CharField(primary_key=True, max_length=64)
    # Indexed by `datarow_dataset_id` (dataset, id): it serves the FK's cascades too.
    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="data_rows", db_index=False
    )
    # Unique in the whole installation when set (NULLs never collide).
    global_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    row_data = models.TextField(blank=True, help_text="First source URI, or the text itself")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["dataset", "id"], name="datarow_dataset_id")]

    def __str__(self) -> str:
        return self.global_key or self.id


class DatasetVersion(PublicModel):
    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    name = models.CharField(max_length=255)  # not unique: drafts and snapshots may share names
    description = models.TextField(blank=True)
    # A parent is always published, so what a child inherits never changes under it.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    depth = models.PositiveIntegerField(default=0, help_text="Generations below the root")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    metadata = models.JSONField(default=dict, blank=True)
    stats = models.JSONField(default=dict, blank=True)
    # Removed by a user but kept (hidden) while descendants still read frames through it.
    removed = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)  # "current" = newest draft
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["dataset", "name"], name="version_dataset_name"),
            models.Index(fields=["dataset", "-updated_at"], name="version_dataset_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft", published_at__isnull=True)
                | Q(status="published", published_at__isnull=False),
                name="version_published_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class FrameRevision(models.Model):
    """Immutable frame content: {sources, meta, rois, attachments}. Shared by hash."""

    # Indexed by the (data_row, content_hash) unique constraint, which leads with it.
    data_row = models.ForeignKey(
        DataRow, on_delete=models.CASCADE, related_name="revisions", db_index=False
    )
    content = models.JSONField()
    content_hash = models.CharField(max_length=64)
    # Every source URI between newlines ("\nuri1\nuri2\n"): `?source=` patterns match here.
    source_uris = models.TextField(default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["data_row", "content_hash"], name="framerevision_row_hash_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.data_row_id}@{self.content_hash[:8]}"


class FrameEntry(models.Model):
    """What one version says about one data row: a revision, or a tombstone (revision null)."""

    # Both indexed by a composite that leads with them: (version, data_row) unique and
    # `frameentry_row_version` (data_row, version). A bulk import writes every index per row.
    version = models.ForeignKey(
        DatasetVersion, on_delete=models.CASCADE, related_name="entries", db_index=False
    )
    data_row = models.ForeignKey(
        DataRow, on_delete=models.CASCADE, related_name="entries", db_index=False
    )
    revision = models.ForeignKey(
        FrameRevision, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "data_row"], name="frameentry_version_row_unique"
            ),
        ]
        verbose_name_plural = "frame entries"
        # Chain reads walk data rows in order and pick each row's entries from the chain.
        indexes = [models.Index(fields=["data_row", "version"], name="frameentry_row_version")]

    def __str__(self) -> str:
        return f"{self.version_id}/{self.data_row_id}"
