"""A version's life: create (a draft, child of a published parent), rename, commit (refresh
statistics), publish, snapshot (publish and open a draft child) and remove."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from dashboard.errors import Conflict, Invalid

from ..drafts import version_lock_draft
from ..events import version_event
from ..models import Dataset, DatasetVersion
from ..stats import stats_empty, version_stats_compute
from .checks import fields_allowed, name_required
from .metadata import metadata_check


def version_name_taken(
    *, dataset_id: str, name: str, exclude: str | None = None
) -> DatasetVersion | None:
    """The dataset's (not removed) version already named `name`, if any (published first)."""
    taken = DatasetVersion.objects.filter(dataset_id=dataset_id, name=name, removed=False)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    return taken.order_by("-status", "-updated_at").first()  # "published" > "draft"


@transaction.atomic
def version_create(
    *,
    dataset: Dataset,
    name: str,
    description: str = "",
    parent: DatasetVersion | None = None,
    metadata: dict | None = None,
    raise_if_exists: bool = False,
    user=None,
) -> tuple[DatasetVersion, bool]:
    """A new draft, or the existing draft of that name (created=False). A parent must be a
    published version of the same dataset, so inherited frames never change. Published versions
    of that name do not count (API.md): a new draft may share a published version's name."""
    name = name_required(name, what="version")
    metadata = metadata_check(metadata, field="metadata")
    existing = (
        DatasetVersion.objects.filter(
            dataset=dataset, name=name, status=DatasetVersion.Status.DRAFT, removed=False
        )
        .order_by("-updated_at")
        .first()
    )
    if existing is not None:
        if raise_if_exists:
            raise Conflict(f"A draft version named {name!r} already exists.", field="name")
        return existing, False
    if parent is not None:
        if parent.dataset_id != dataset.pk:
            raise Invalid("The parent belongs to another dataset.", field="parent")
        if not parent.is_published:
            raise Conflict("The parent version is a draft: publish it first.", field="parent")
    version = DatasetVersion.objects.create(
        dataset=dataset,
        name=name,
        description=description or "",
        parent=parent,
        depth=parent.depth + 1 if parent else 0,
        metadata=metadata,
        # Kept current by every write from here on; a child starts with its parent's frames.
        stats=dict(parent.stats) if parent else stats_empty(),
        created_by=user if user and user.pk else None,
    )
    version_event("version.created", version)
    return version, True


def version_update(*, version: DatasetVersion, **fields: Any) -> DatasetVersion:
    """Rename or re-describe a version (allowed on published versions too: not content)."""
    fields_allowed(fields, {"name", "description"})
    if "name" in fields:
        version.name = name_required(fields["name"], what="version")
    if "description" in fields:
        version.description = fields["description"] or ""
    version.save(update_fields=["name", "description", "updated_at"])
    return version


def _lock(version: DatasetVersion) -> DatasetVersion:
    return DatasetVersion.objects.select_for_update().get(pk=version.pk)


@transaction.atomic
def version_commit(*, version: DatasetVersion) -> DatasetVersion:
    """Merge the changes (they are live already) and refresh the cached statistics."""
    version = _lock(version)
    stats = version_stats_compute(version)
    DatasetVersion.objects.filter(pk=version.pk).update(stats=stats)
    version.stats = stats
    return version


@transaction.atomic
def version_publish(
    *,
    version: DatasetVersion,
    name: str | None = None,
    description: str | None = None,
    metadata: dict | None = None,
) -> DatasetVersion:
    """Lock the version: from now on its frames and metadata never change."""
    version = version_lock_draft(version)
    if metadata is not None:
        version.metadata = {**version.metadata, **metadata_check(metadata, field="metadata")}
    if name is not None:
        version.name = name
    if description is not None:
        version.description = description
    version.status = DatasetVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.save()
    version_event("version.published", version)
    # Final statistics are counted in the background: publishing stays O(1) at any size.
    version_stats_refresh_start(version=version)
    return version


STATS_SYNC_LIMIT = 20_000  # frames counted inside a request; more → a background job


def version_stats_refresh_start(*, version: DatasetVersion, user=None):
    from dashboard.jobs.services import job_create

    return job_create(kind="recount_stats", params={"version_id": version.pk}, user=user)


def version_commit_or_start(*, version: DatasetVersion, user=None):
    """Commit small versions at once (returns the version); start a job for large ones
    (returns the job)."""
    from ..copy_on_write import effective_entries

    if effective_entries(version).count() <= STATS_SYNC_LIMIT:
        return version_commit(version=version)
    return version_stats_refresh_start(version=version, user=user)


def _stamp() -> str:
    return timezone.now().strftime("%Y-%m-%d %H:%M:%S UTC")


@transaction.atomic
def version_snapshot(
    *,
    version: DatasetVersion,
    publish_name: str | None = None,
    publish_comment: str | None = None,
    publish_metadata: dict | None = None,
    child_name: str | None = None,
    child_comment: str | None = None,
    child_metadata: dict | None = None,
    user=None,
) -> DatasetVersion:
    """Publish the draft and return a new draft child. Costs the same whatever the size."""
    version = version_lock_draft(version)
    if publish_metadata is not None:
        publish_metadata = metadata_check(publish_metadata, field="publish_metadata")
    child_metadata = metadata_check(child_metadata, field="child_metadata")
    original_name = version.name
    who = getattr(user, "username", None) or "system"
    publish_name = publish_name or f"snapshot {_stamp()}"
    child_name = child_name or original_name
    published = version_publish(
        version=version,
        name=publish_name,
        description=publish_comment or f"published at {_stamp()} by {who}",
        metadata=publish_metadata,
    )
    child = DatasetVersion.objects.create(
        dataset_id=published.dataset_id,
        name=child_name,
        description=child_comment or "",
        parent=published,
        depth=published.depth + 1,
        metadata=child_metadata,
        stats=dict(published.stats),
        created_by=user if user and user.pk else None,
    )
    version_event("version.created", child)
    return child


@transaction.atomic
def version_remove(*, version: DatasetVersion, force: bool = False) -> None:
    """Remove a version. A published one only with `force`. Children stay whole: a removed
    version that still has children is hidden, and purged with its last descendant."""
    version = _lock(version)
    if version.removed:
        raise Conflict("This version has already been removed.")
    if version.is_published and not force:
        raise Conflict("The version is published: remove it with force=true.", field="force")
    version_event("version.removed", version, published=version.is_published)
    if version.children.exists():
        version.removed = True
        version.save(update_fields=["removed"])
        return
    parent_id = version.parent_id
    version.entries.all().delete()
    version.delete()
    # Hidden ancestors no version reads through any more can go now.
    while parent_id is not None:
        parent = DatasetVersion.objects.filter(pk=parent_id, removed=True).first()
        if parent is None or parent.children.exists():
            break
        parent_id = parent.parent_id
        parent.entries.all().delete()
        parent.delete()
