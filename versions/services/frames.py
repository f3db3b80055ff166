"""Frame verbs on one draft: add (overwrite by id), update (merge), delete, `frames_bulk`
batching, and large add requests started as jobs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

from dashboard.errors import ApplicationError, Invalid

from ..copy_on_write import iter_frame_contents, version_chain
from ..drafts import version_ensure_draft, version_lock_draft
from ..frames import FRAME_ID_RE, content_hash, frame_content, frame_id_for_uri, merge_content
from ..models import DataRow, DatasetVersion, FrameEntry, FrameRevision


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
    version = version_lock_draft(version)
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
    version = version_lock_draft(version)
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
    version = version_lock_draft(version)
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
    version_ensure_draft(version)
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

    version_ensure_draft(version)
    body = "".join(json.dumps(frame, separators=(",", ":")) + "\n" for frame in frames)
    path = default_storage.save(f"uploads/frames-{new_id()}.ndjson", ContentFile(body.encode()))
    return job_create(
        kind="add_frames",
        params={"version_id": version.pk, "path": path},
        user=user,
        total=len(frames),
    )
