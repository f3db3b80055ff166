"""Writes on datasets, versions and frames. Every verb is one typed, atomic function, used alike
by the API, the admin, the pages and jobs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from dashboard.errors import ApplicationError, Conflict, Invalid

from ..copy_on_write import iter_frame_contents, version_chain
from ..frames import (
    FRAME_ID_RE,
    check_metadata_keys,
    content_hash,
    frame_content,
    frame_id_for_uri,
    merge_content,
)
from ..models import DataRow, Dataset, DatasetVersion, FrameEntry, FrameRevision
from ..stats import version_stats_compute

# ---------------------------------------------------------------- datasets


def _clean_tags(tags: Any) -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise Invalid("Must be a list of non-empty strings.", field="tags")
    if any(t.startswith(("-", "__$")) for t in tags):
        raise Invalid("Tags may not start with '-' or '__$' (filter syntax).", field="tags")
    return list(dict.fromkeys(t.strip() for t in tags))


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
    tags = _clean_tags(tags)
    existing = Dataset.objects.filter(name=name).first()
    if existing is not None:
        if raise_if_exists:
            raise Conflict(f"A dataset named {name!r} already exists.", field="name")
        return existing, False
    dataset = Dataset.objects.create(
        name=name,
        description=description or "",
        tags=tags,
        dataset_project=dataset_project or "",
        created_by=user if user and user.pk else None,
    )
    return dataset, True


def dataset_update(*, dataset: Dataset, **fields: Any) -> Dataset:
    allowed = {"name", "description", "tags", "dataset_project"}
    unknown = set(fields) - allowed
    if unknown:
        raise Invalid(f"Unknown field(s): {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    if "name" in fields:
        name = (fields["name"] or "").strip()
        if not name:
            raise Invalid("A dataset needs a name.", field="name")
        if Dataset.objects.filter(name=name).exclude(pk=dataset.pk).exists():
            raise Conflict(f"A dataset named {name!r} already exists.", field="name")
        dataset.name = name
    if "tags" in fields:
        dataset.tags = _clean_tags(fields["tags"])
    for key in ("description", "dataset_project"):
        if key in fields:
            dataset.__dict__[key] = fields[key] or ""
    dataset.save()
    return dataset


def _external_references(rows) -> list[str]:
    """Names of other apps' objects that still point at these data rows (queue entries,
    labels…), found through the model graph so this app needs not know them."""
    found = []
    for relation in DataRow._meta.related_objects:
        if relation.related_model._meta.app_label == "versions":
            continue
        lookup = {f"{relation.field.name}__in": rows}
        if relation.related_model._default_manager.filter(**lookup).exists():
            found.append(str(relation.related_model._meta.verbose_name_plural))
    return found


@transaction.atomic
def dataset_delete(*, dataset: Dataset) -> None:
    """Delete a dataset with its versions and rows; refused while its rows are in use."""
    in_use = _external_references(DataRow.objects.filter(dataset=dataset))
    if in_use:
        raise Conflict(
            f"The dataset's data rows are still used by {', '.join(in_use)}; remove them first."
        )
    # Set-based, children first: Django's collector would fetch every id of every row and
    # delete them in IN-lists (25 s at 100,000 rows). Nothing else points at these rows
    # (checked above); a reference that appeared meanwhile fails the constraint check below.
    for rows in (
        FrameEntry.objects.filter(version__dataset=dataset),
        FrameRevision.objects.filter(data_row__dataset=dataset),
        DataRow.objects.filter(dataset=dataset),
    ):
        rows._raw_delete(rows.db)
    for version in DatasetVersion.objects.filter(dataset=dataset).order_by("-depth"):
        version.delete()  # versions reference each other (PROTECT): leaves first
    dataset.delete()
    referencing = {r.related_model._meta.db_table for r in DataRow._meta.related_objects}
    try:
        connection.check_constraints(table_names=sorted(referencing))
    except IntegrityError:
        raise Conflict(
            "The dataset's data rows came into use while it was being deleted; try again."
        ) from None


# ---------------------------------------------------------------- versions


def _check_metadata(metadata: Any, *, field: str, mask_field: str | None = None) -> dict:
    """User metadata: an object with plain keys; a `mask_labels` key is checked as the
    mask-labels endpoint checks it (on every path that writes metadata), its error naming
    `mask_field` (default: `field`)."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise Invalid("Must be an object.", field=field)
    check_metadata_keys(metadata, field=field)
    if "mask_labels" in metadata:
        try:
            masks = mask_labels_validate(metadata["mask_labels"])
        except Invalid as exc:
            if mask_field == "mask_labels":
                raise
            raise Invalid(f"mask_labels: {exc.message}", field=mask_field or field) from None
        metadata = {**metadata, "mask_labels": masks}
    return metadata


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
    published version of the same dataset, so inherited frames never change."""
    name = (name or "").strip()
    if not name:
        raise Invalid("A version needs a name.", field="name")
    metadata = _check_metadata(metadata, field="metadata")
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
        stats=dict(parent.stats) if parent else {},
        created_by=user if user and user.pk else None,
    )
    return version, True


def version_update(*, version: DatasetVersion, **fields: Any) -> DatasetVersion:
    """Rename or re-describe a version (allowed on published versions too: not content)."""
    unknown = set(fields) - {"name", "description"}
    if unknown:
        raise Invalid(f"Unknown field(s): {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    if "name" in fields:
        name = (fields["name"] or "").strip()
        if not name:
            raise Invalid("A version needs a name.", field="name")
        version.name = name
    if "description" in fields:
        version.description = fields["description"] or ""
    version.save(update_fields=["name", "description", "updated_at"])
    return version


def _lock(version: DatasetVersion) -> DatasetVersion:
    return DatasetVersion.objects.select_for_update().get(pk=version.pk)


def _ensure_writable(version: DatasetVersion) -> None:
    if version.is_published:
        raise Conflict(f"Version {version.name!r} is published and cannot be changed.")


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
    version = _lock(version)
    _ensure_writable(version)
    if metadata is not None:
        version.metadata = {**version.metadata, **_check_metadata(metadata, field="metadata")}
    if name is not None:
        version.name = name
    if description is not None:
        version.description = description
    version.status = DatasetVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.save()
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
    version = _lock(version)
    _ensure_writable(version)
    if publish_metadata is not None:
        publish_metadata = _check_metadata(publish_metadata, field="publish_metadata")
    child_metadata = _check_metadata(child_metadata, field="child_metadata")
    original_name = version.name
    who = getattr(user, "username", None) or "system"
    published = version_publish(
        version=version,
        name=publish_name or f"snapshot {_stamp()}",
        description=publish_comment or f"published at {_stamp()} by {who}",
        metadata=publish_metadata,
    )
    return DatasetVersion.objects.create(
        dataset_id=published.dataset_id,
        name=child_name or original_name,
        description=child_comment or "",
        parent=published,
        depth=published.depth + 1,
        metadata=child_metadata,
        stats=dict(published.stats),
        created_by=user if user and user.pk else None,
    )


@transaction.atomic
def version_remove(*, version: DatasetVersion, force: bool = False) -> None:
    """Remove a version. A published one only with `force`. Children stay whole: a removed
    version that still has children is hidden, and purged with its last descendant."""
    version = _lock(version)
    if version.removed:
        raise Conflict("This version has already been removed.")
    if version.is_published and not force:
        raise Conflict("The version is published: remove it with force=true.", field="force")
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


def version_set_metadata(*, version: DatasetVersion, metadata: Any) -> DatasetVersion:
    """Replace the user metadata; `mask_labels` is kept unless given."""
    metadata = _check_metadata(metadata, field="metadata", mask_field="mask_labels")
    with transaction.atomic():
        version = _lock(version)
        _ensure_writable(version)
        kept = {}
        if "mask_labels" not in metadata and "mask_labels" in version.metadata:
            kept["mask_labels"] = version.metadata["mask_labels"]
        version.metadata = {**metadata, **kept}
        version.save(update_fields=["metadata", "updated_at"])
    return version


def mask_labels_validate(value: Any) -> list[dict]:
    """`[{"value": [r, g, b], "labels": [...]}, …]` with 0-255 channels and unique values."""
    if not isinstance(value, list):
        raise Invalid("Must be a list of {value: [r, g, b], labels: [...]}.", field="mask_labels")
    seen, clean = set(), []
    for i, item in enumerate(value):
        rgb = item.get("value") if isinstance(item, dict) else None
        labels = item.get("labels") if isinstance(item, dict) else None
        if (
            not isinstance(rgb, list | tuple)
            or len(rgb) != 3
            or not all(
                isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in rgb
            )
        ):
            raise Invalid(f"Item {i}: value must be three integers 0-255.", field="mask_labels")
        if not isinstance(labels, list | tuple) or not all(isinstance(x, str) for x in labels):
            raise Invalid(f"Item {i}: labels must be a list of strings.", field="mask_labels")
        if tuple(rgb) in seen:
            raise Invalid(f"Item {i}: value {list(rgb)} appears twice.", field="mask_labels")
        seen.add(tuple(rgb))
        clean.append({"value": list(rgb), "labels": list(labels)})
    return clean


def version_set_mask_labels(*, version: DatasetVersion, mask_labels: Any) -> DatasetVersion:
    clean = mask_labels_validate(mask_labels)
    with transaction.atomic():
        version = _lock(version)
        _ensure_writable(version)
        version.metadata = {**version.metadata, "mask_labels": clean}
        version.save(update_fields=["metadata", "updated_at"])
    return version


# ---------------------------------------------------------------- frames


def _failure(index: int, frame: Any, exc: ApplicationError | str, error_type: str) -> dict:
    message = (
        exc
        if isinstance(exc, str)
        else "; ".join(
            f"{k}: {' '.join(v) if isinstance(v, list) else v}" for k, v in exc.as_data().items()
        )
    )
    return {"frame": frame, "error": message, "error_type": error_type, "index": index}


def _prepare(dataset_id: str, frame: Any) -> tuple[str, str | None, dict]:
    content = frame_content(frame)
    frame_id = frame.get("id") or frame_id_for_uri(
        dataset_id=dataset_id, uri=content["sources"][0]["uri"]
    )
    if not isinstance(frame_id, str) or not FRAME_ID_RE.match(frame_id):
        raise Invalid("Frame ids are 1-64 letters, digits, '_', '.', ':' or '-'.", field="id")
    global_key = frame.get("global_key") or None
    if global_key is not None and (not isinstance(global_key, str) or len(global_key) > 255):
        raise Invalid("Must be a string of at most 255 characters.", field="global_key")
    return frame_id, global_key, content


Prepared = dict[str, tuple[int, Any, str | None, dict]]  # id → (input index, frame, key, content)


def _write(version: DatasetVersion, prepared: Prepared, failed: list) -> int:
    """Register data rows and point the version's entries at (shared) revisions."""
    dataset_id = version.dataset_id
    existing = {
        row.pk: row
        for row in DataRow.objects.filter(pk__in=list(prepared)).only(
            "id", "dataset_id", "global_key", "row_data"
        )
    }
    keys = [gk for _, _, gk, _ in prepared.values() if gk]
    key_owner = dict(DataRow.objects.filter(global_key__in=keys).values_list("global_key", "id"))
    new_rows, changed_rows, claimed = [], [], {}
    for frame_id, (index, frame, global_key, content) in list(prepared.items()):
        row = existing.get(frame_id)
        owner = key_owner.get(global_key) if global_key else None
        problem = None
        if row is not None and row.dataset_id != dataset_id:
            problem = f"Frame id {frame_id!r} belongs to another dataset."
        elif owner is not None and owner != frame_id:
            problem = f"global_key {global_key!r} is already used by data row {owner!r}."
        elif global_key and claimed.setdefault(global_key, frame_id) != frame_id:
            problem = f"global_key {global_key!r} is given to two frames in this request."
        if problem:
            failed.append(_failure(index, frame, problem, "register"))
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
    hashes = {fid: content_hash(item[3]) for fid, item in prepared.items()}
    FrameRevision.objects.bulk_create(
        [
            FrameRevision(
                data_row_id=fid,
                content=prepared[fid][3],
                content_hash=h,
                source_uris="\n" + "\n".join(s["uri"] for s in prepared[fid][3]["sources"]) + "\n",
            )
            for fid, h in hashes.items()
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    # One IN list (served by the (data_row, content_hash) index); hashes matched here.
    revision_ids = {}
    for start in range(0, len(hashes), 5000):
        part = list(hashes)[start : start + 5000]
        for pk, row_id, h in FrameRevision.objects.filter(data_row_id__in=part).values_list(
            "pk", "data_row_id", "content_hash"
        ):
            if hashes[row_id] == h:
                revision_ids[(row_id, h)] = pk
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
    return len(prepared)


@transaction.atomic
def frames_add(*, version: DatasetVersion, frames: list[Any]) -> dict[str, Any]:
    """Add frames (an existing id is overwritten). Returns `{added, failed: [{frame, error,
    error_type}]}`; good frames are kept when others fail."""
    if not isinstance(frames, list):
        raise Invalid("Must be a list of frames.", field="frames")
    version = _lock(version)
    _ensure_writable(version)
    failed: list[dict] = []
    prepared: Prepared = {}
    for index, frame in enumerate(frames):
        try:
            frame_id, global_key, content = _prepare(version.dataset_id, frame)
        except ApplicationError as exc:
            failed.append(_failure(index, frame, exc, "validation"))
            continue
        prepared[frame_id] = (index, frame, global_key, content)  # a later duplicate id wins
    added = _write(version, prepared, failed)
    version.save(update_fields=["updated_at"])
    return {"added": added, "failed": failed}


@transaction.atomic
def frames_update(
    *, version: DatasetVersion, frames: list[Any], without_fields: list[str] | None = None
) -> dict[str, Any]:
    """Update frames by id, merging: given fields are set (dicts merged key by key), fields
    left out — or listed in `without_fields` — keep their value. A frame without id, or with
    an id the version lacks, is created."""
    if not isinstance(frames, list):
        raise Invalid("Must be a list of frames.", field="frames")
    if without_fields is not None and (
        not isinstance(without_fields, list) or not all(isinstance(f, str) for f in without_fields)
    ):
        raise Invalid("Must be a list of field names.", field="without_fields")
    without = set(without_fields or [])
    if not without <= {"sources", "meta", "rois", "attachments", "global_key"}:
        raise Invalid(
            "Only sources, meta, rois, attachments and global_key can be left out.",
            field="without_fields",
        )
    version = _lock(version)
    _ensure_writable(version)
    ids = [f["id"] for f in frames if isinstance(f, dict) and isinstance(f.get("id"), str)]
    current = dict(iter_frame_contents(version, ids=ids)) if ids else {}
    failed: list[dict] = []
    prepared: Prepared = {}
    for index, frame in enumerate(frames):
        try:
            if not isinstance(frame, dict):
                raise Invalid("A frame must be an object.", field="frame")
            given = {k: v for k, v in frame.items() if k not in without}
            base = current.get(frame.get("id"))
            if base is not None:
                given = {**given, **merge_content(base, given)}
            frame_id, global_key, content = _prepare(version.dataset_id, given)
        except ApplicationError as exc:
            failed.append(_failure(index, frame, exc, "validation"))
            continue
        prepared[frame_id] = (index, frame, global_key, content)
    updated = _write(version, prepared, failed)
    version.save(update_fields=["updated_at"])
    return {"updated": updated, "failed": failed}


@transaction.atomic
def frames_delete(*, version: DatasetVersion, ids: list[str]) -> int:
    """Delete frames from a draft: a tombstone per id, so ancestors' frames stay untouched.
    Returns how many of the ids the version had."""
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise Invalid("Must be a list of frame ids.", field="ids")
    version = _lock(version)
    _ensure_writable(version)
    chain = version_chain(version)
    present = [row_id for row_id, _ in _present(version, ids, chain)]
    if len(chain) == 1:
        FrameEntry.objects.filter(version_id=version.pk, data_row_id__in=present).delete()
    else:
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


def _present(version, ids, chain):
    from ..copy_on_write import iter_revision_ids

    for start in range(0, len(ids), 5000):
        yield from iter_revision_ids(version, ids=ids[start : start + 5000], chain=chain)


class FrameBulk:
    """Collects add / update / delete operations and writes them every `flush_threshold`
    operations and on exit (the seed's BulkContext). `failed` gathers every failure."""

    def __init__(self, version: DatasetVersion, flush_threshold: int = 1000):
        if flush_threshold < 1:
            raise Invalid("Must be at least 1.", field="flush_threshold")
        self.version = version
        self.flush_threshold = flush_threshold
        self.failed: list[dict] = []
        self.written = 0
        self._ops: list[tuple[str, Any]] = []

    def add_frame(self, frame: dict) -> None:
        self._queue("add", frame)

    def update_frame(self, frame: dict) -> None:
        self._queue("update", frame)

    def delete_frame(self, frame: dict | str) -> None:
        self._queue("delete", frame["id"] if isinstance(frame, dict) else frame)

    def _queue(self, op: str, item: Any) -> None:
        self._ops.append((op, item))
        if len(self._ops) >= self.flush_threshold:
            self.flush()

    def flush(self) -> None:
        """Write the pending operations in order, runs of the same kind together."""
        ops, self._ops = self._ops, []
        run: list[Any] = []
        kind = None
        for op, item in [*ops, (None, None)]:
            if op != kind and run:
                if kind == "add":
                    result = frames_add(version=self.version, frames=run)
                    self.written += result["added"]
                elif kind == "update":
                    result = frames_update(version=self.version, frames=run)
                    self.written += result["updated"]
                else:
                    result = {"failed": []}
                    self.written += frames_delete(version=self.version, ids=run)
                self.failed += result["failed"]
                run = []
            kind = op
            run.append(item)


@contextmanager
def frames_bulk(*, version: DatasetVersion, flush_threshold: int = 1000) -> Iterator[FrameBulk]:
    """`with frames_bulk(version=v, flush_threshold=500) as bulk: bulk.add_frame(f)`"""
    _ensure_writable(version)
    bulk = FrameBulk(version, flush_threshold)
    yield bulk
    bulk.flush()


# ---------------------------------------------------------------- large requests as jobs

FRAMES_SYNC_LIMIT = 5000  # more frames in one request → a background job


def frames_add_start(*, version: DatasetVersion, frames: list[Any], user=None):
    """Spool a large add-frames request to a file and process it as a resumable job."""
    import json

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from dashboard.ids import new_id
    from dashboard.jobs.services import job_create

    _ensure_writable(version)
    body = "".join(json.dumps(frame, separators=(",", ":")) + "\n" for frame in frames)
    path = default_storage.save(f"uploads/frames-{new_id()}.ndjson", ContentFile(body.encode()))
    return job_create(
        kind="add_frames",
        params={"version_id": version.pk, "path": path},
        user=user,
        total=len(frames),
    )
