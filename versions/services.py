"""Writes on datasets, versions and frames. Every verb is one typed, atomic function."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from dashboard.errors import ApplicationError, Conflict, Invalid

from .frames import FRAME_ID_RE, content_hash, frame_content, frame_id_for_uri
from .models import DataRow, Dataset, DatasetVersion, FrameEntry, FrameRevision


def dataset_create(
    *,
    name: str,
    description: str = "",
    tags: list[str] | None = None,
    dataset_project: str = "",
    raise_if_exists: bool = False,
    user=None,
) -> tuple[Dataset, bool]:
    """Create a dataset, or return the existing one of that name (created=False)."""
    name = (name or "").strip()
    if not name:
        raise Invalid("A dataset needs a name.", field="name")
    existing = Dataset.objects.filter(name=name).first()
    if existing is not None:
        if raise_if_exists:
            raise Conflict(f"A dataset named {name!r} already exists.", field="name")
        return existing, False
    dataset = Dataset.objects.create(
        name=name,
        description=description,
        tags=list(tags or []),
        dataset_project=dataset_project,
        created_by=user if user and user.pk else None,
    )
    return dataset, True


def version_create(
    *,
    dataset: Dataset,
    name: str,
    description: str = "",
    parent: DatasetVersion | None = None,
    user=None,
) -> DatasetVersion:
    """A new draft; its parent (if any) must be published, so inherited frames never change."""
    if parent is not None:
        if parent.dataset_id != dataset.pk:
            raise Invalid("The parent belongs to another dataset.", field="parent")
        if not parent.is_published:
            raise Conflict("The parent version is a draft: publish it first.", field="parent")
    return DatasetVersion.objects.create(
        dataset=dataset,
        name=name,
        description=description,
        parent=parent,
        depth=parent.depth + 1 if parent else 0,
        created_by=user if user and user.pk else None,
    )


def _ensure_writable(version: DatasetVersion) -> None:
    if version.is_published:
        raise Conflict(f"Version {version.name!r} is published and cannot be changed.")


@transaction.atomic
def frames_add(*, version: DatasetVersion, frames: list[dict[str, Any]]) -> dict[str, Any]:
    """Add frames (an existing id is overwritten). Returns `{added, failed: [{frame, error,
    error_type}]}`; good frames are kept when others fail."""
    version = DatasetVersion.objects.select_for_update().get(pk=version.pk)
    _ensure_writable(version)
    dataset_id = version.dataset_id
    failed: list[dict[str, Any]] = []
    prepared: dict[str, tuple[dict, str | None, dict]] = {}
    for frame in frames:
        try:
            content = frame_content(frame)
            frame_id = frame.get("id") or frame_id_for_uri(
                dataset_id=dataset_id, uri=content["sources"][0]["uri"]
            )
            if not isinstance(frame_id, str) or not FRAME_ID_RE.match(frame_id):
                raise Invalid(
                    "Frame ids are 1-64 letters, digits, '_', '.', ':' or '-'.", field="id"
                )
            global_key = frame.get("global_key") or None
            if global_key is not None and not isinstance(global_key, str):
                raise Invalid("Must be a string.", field="global_key")
        except ApplicationError as exc:
            failed.append({"frame": frame, "error": str(exc.as_data()), "error_type": "validation"})
            continue
        prepared[frame_id] = (frame, global_key, content)

    existing = {
        row.pk: row
        for row in DataRow.objects.filter(pk__in=list(prepared)).only(
            "id", "dataset_id", "global_key", "row_data"
        )
    }
    keys = [gk for _, gk, _ in prepared.values() if gk]
    key_owner = dict(DataRow.objects.filter(global_key__in=keys).values_list("global_key", "id"))
    new_rows, changed_rows = [], []
    for frame_id, (frame, global_key, content) in list(prepared.items()):
        row = existing.get(frame_id)
        owner = key_owner.get(global_key) if global_key else None
        problem = None
        if row is not None and row.dataset_id != dataset_id:
            problem = f"Frame id {frame_id!r} belongs to another dataset."
        elif owner is not None and owner != frame_id:
            problem = f"global_key {global_key!r} is already used by data row {owner!r}."
        if problem:
            failed.append({"frame": frame, "error": problem, "error_type": "register"})
            del prepared[frame_id]
            continue
        row_data = content["sources"][0]["uri"]
        if row is None:
            new_rows.append(
                DataRow(
                    id=frame_id, dataset_id=dataset_id, global_key=global_key, row_data=row_data
                )
            )
        elif row.row_data != row_data or (global_key and row.global_key != global_key):
            row.row_data = row_data
            row.global_key = global_key or row.global_key
            changed_rows.append(row)
    DataRow.objects.bulk_create(new_rows, batch_size=1000)
    DataRow.objects.bulk_update(changed_rows, ["row_data", "global_key"], batch_size=1000)

    hashes = {fid: content_hash(content) for fid, (_, _, content) in prepared.items()}
    FrameRevision.objects.bulk_create(
        [
            FrameRevision(data_row_id=fid, content=prepared[fid][2], content_hash=h)
            for fid, h in hashes.items()
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    revision_ids = {
        (row_id, h): pk
        for pk, row_id, h in FrameRevision.objects.filter(data_row_id__in=list(hashes)).values_list(
            "pk", "data_row_id", "content_hash"
        )
    }
    FrameEntry.objects.bulk_create(
        [
            FrameEntry(version_id=version.pk, data_row_id=fid, revision_id=revision_ids[(fid, h)])
            for fid, h in hashes.items()
        ],
        update_conflicts=True,
        unique_fields=["version", "data_row"],
        update_fields=["revision"],
        batch_size=1000,
    )
    version.save(update_fields=["updated_at"])
    return {"added": len(prepared), "failed": failed}


@transaction.atomic
def version_publish(*, version: DatasetVersion) -> DatasetVersion:
    """Lock the version: from now on its frames never change."""
    version = DatasetVersion.objects.select_for_update().get(pk=version.pk)
    _ensure_writable(version)
    version.status = DatasetVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_at", "updated_at"])
    return version


@transaction.atomic
def frames_delete(*, version: DatasetVersion, ids: list[str]) -> int:
    """Delete frames from a draft: a tombstone per id, so ancestors' frames stay untouched.
    Returns how many of the ids the version had."""
    from .copy_on_write import effective_entries

    version = DatasetVersion.objects.select_for_update().get(pk=version.pk)
    _ensure_writable(version)
    present = list(
        effective_entries(version)
        .filter(data_row_id__in=list(ids))
        .values_list("data_row_id", flat=True)
    )
    FrameEntry.objects.bulk_create(
        [
            FrameEntry(version_id=version.pk, data_row_id=row_id, revision=None)
            for row_id in present
        ],
        update_conflicts=True,
        unique_fields=["version", "data_row"],
        update_fields=["revision"],
        batch_size=1000,
    )
    version.save(update_fields=["updated_at"])
    return len(present)
