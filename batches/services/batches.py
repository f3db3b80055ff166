"""Writes on batches: create (at once, or as a job from a row list or a dataset), rename and
re-prioritise, remove queued rows, delete labels, delete. Keyword-only and atomic."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from dashboard.errors import Conflict, Invalid, NotFound
from dashboard.jobs.services import job_create
from dashboard.models import Job
from dashboard.unset import UNSET
from versions.models import DataRow, Dataset, DatasetVersion

from ..events import batch_completed_check, batch_event
from ..models import NO_PRIORITY_SORT, Batch, Label, Project, QueueEntry, Skip
from ..selectors import dataset_rows_outside
from .agreement import agreement_buckets_recount
from .priorities import batch_rows_reprioritise
from .projects import user_or_none
from .rollups import RollupDelta, labels_delete, skips_delete
from .rows import LOOKUP_CHUNK, failed_row, failed_without_index, job_create_with_rows, rows_resolve

MAX_BATCH_ROWS = 100_000
MAX_BATCHES_ROWS = 1_000_000
DELETE_LABELS_SYNC_LIMIT = 10_000
NAME_SUFFIX_DIGITS = 4


# --- Creating batches --------------------------------------------------------------------------


def consensus_covers(*, batch_id: str, data_row_id: str, coverage: float) -> bool:
    """Reproducible choice of the consensus share: a hash of batch and row, not a die roll."""
    digest = hashlib.sha1(f"{batch_id}:{data_row_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < coverage


def _insert_entries(
    *, project: Project, batch: Batch, ids: list[str], consensus: dict | None
) -> set[str]:
    """Queue the rows of a new batch; returns the ids already queued in the project (skipped).

    PostgreSQL: one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING` per
    100,000 rows; SQLite (writers serialised): a pre-check and bulk inserts.
    """
    sort = NO_PRIORITY_SORT if batch.priority is None else batch.priority
    required = [
        consensus["number_of_labels"]
        if consensus
        and consensus_covers(
            batch_id=batch.pk, data_row_id=rid, coverage=consensus["coverage_percentage"]
        )
        else 1
        for rid in ids
    ]
    now = timezone.now()
    if connection.vendor == "postgresql":
        table = QueueEntry._meta.db_table
        inserted: set[str] = set()
        with connection.cursor() as cursor:
            for start in range(0, len(ids), MAX_BATCH_ROWS):
                part = ids[start : start + MAX_BATCH_ROWS]
                cursor.execute(
                    f"""
                    INSERT INTO {table} (project_id, batch_id, data_row_id, state,
                        priority_override, sort_priority, labels_required, labels_count,
                        created_at)
                    SELECT %s, %s, v.data_row_id, 'queued', NULL, %s, v.required, 0, %s
                    FROM unnest(%s::varchar[], %s::smallint[]) WITH ORDINALITY
                        AS v(data_row_id, required, ord)
                    ORDER BY v.ord
                    ON CONFLICT (project_id, data_row_id) DO NOTHING
                    RETURNING data_row_id
                    """,
                    [project.pk, batch.pk, sort, now, part, required[start : start + len(part)]],
                )
                inserted.update(r[0] for r in cursor.fetchall())
        return {rid for rid in ids if rid not in inserted}
    taken: set[str] = set()
    for start in range(0, len(ids), LOOKUP_CHUNK):
        taken.update(
            QueueEntry.objects.filter(
                project=project, data_row_id__in=ids[start : start + LOOKUP_CHUNK]
            ).values_list("data_row_id", flat=True)
        )
    QueueEntry.objects.bulk_create(
        [
            QueueEntry(
                project=project,
                batch=batch,
                data_row_id=rid,
                sort_priority=sort,
                labels_required=req,
            )
            for rid, req in zip(ids, required, strict=True)
            if rid not in taken
        ],
        batch_size=2000,
    )
    return taken


def batch_create_from_ids(
    *,
    project: Project,
    name: str,
    ids: list[str],
    positions: dict[str, int] | None = None,
    priority: int | None,
    consensus: dict | None,
    user=None,
    dataset=None,
    version=None,
) -> tuple[Batch | None, list[dict]]:
    """Create one batch of resolved row ids (≤ 100,000) inside the caller's transaction: the
    chunk of `batch_create` and of the create-batches jobs. Returns (batch, failed rows: ids
    already queued in the project, with their input index from `positions`); batch None when
    every row failed. 409 if the name is taken or a concurrent writer won the rows."""
    if len(ids) > MAX_BATCH_ROWS:
        raise Invalid(f"A batch holds at most {MAX_BATCH_ROWS} rows; got {len(ids)}.")
    try:
        with transaction.atomic():
            if Batch.objects.filter(project=project, name=name).exists():
                raise Conflict(f"The project already has a batch named {name!r}.", field="name")
            batch = Batch.objects.create(
                project=project,
                name=name,
                priority=priority,
                consensus_settings=consensus,
                created_by=user_or_none(user),
                dataset=dataset,
                version=version,
            )
            taken = _insert_entries(project=project, batch=batch, ids=ids, consensus=consensus)
            failed = []
            if taken:
                keys = dict(DataRow.objects.filter(pk__in=taken).values_list("id", "global_key"))
                failed = [
                    failed_row(
                        index=(positions or {}).get(rid),
                        data_row=rid,
                        global_key=keys.get(rid),
                        reason="already in this project",
                    )
                    for rid in ids
                    if rid in taken
                ]
            size = len(ids) - len(taken)
            if size == 0:
                transaction.set_rollback(True)
                return None, failed
            Batch.objects.filter(pk=batch.pk).update(size=size)
            batch.size = size
            batch_event("batch.created", batch, size=size)
    except IntegrityError as exc:
        # A concurrent writer won the name or the rows between our checks and our insert.
        raise Conflict(
            "Another change to this project's batches happened at the same time; try again."
        ) from exc
    return batch, failed


def batch_create(
    *,
    project: Project,
    name: str,
    global_keys: list | None = None,
    data_rows: list | None = None,
    priority: int | None = None,
    consensus_settings: dict | None = None,
    user=None,
    dataset=None,
    version=None,
) -> tuple[Batch | None, list[dict]]:
    """Create a batch of rows not yet in the project, from `global_keys` or else `data_rows`
    (validated by the door: at most 100,000); returns (batch, failed rows). If every row
    fails, no batch is left behind (batch None)."""
    field, values = row_list(global_keys=global_keys, data_rows=data_rows)
    ids, failed = rows_resolve(field=field, values=values)
    with transaction.atomic():
        if Batch.objects.filter(project=project, name=name).exists():
            raise Conflict(f"The project already has a batch named {name!r}.", field="name")
        if not ids:
            return None, failed_without_index(failed)
        # Each taken id's input index (rows_resolve keeps input order, leaving failed ones out).
        failed_at = {f["index"] for f in failed}
        taken_at = [i for i in range(len(values)) if i not in failed_at]
        positions = dict(zip(ids, taken_at, strict=True))
        batch, more = batch_create_from_ids(
            project=project,
            name=name,
            ids=ids,
            positions=positions,
            priority=priority,
            consensus=consensus_settings,
            user=user,
            dataset=dataset,
            version=version,
        )
    return batch, failed_without_index(failed + more)


def row_list(*, global_keys: list[str] | None, data_rows: list[str] | None) -> tuple[str, list]:
    """The row list a create verb was given: (`global_keys`, keys), else (`data_rows`, ids)."""
    if global_keys is not None:
        return "global_keys", global_keys
    return "data_rows", data_rows or []


def batch_names(*, prefix: str, count: int) -> list[str]:
    """`<prefix>0000`, `<prefix>0001`, … (more digits only past 9999 batches)."""
    return [f"{prefix}{i:0{NAME_SUFFIX_DIGITS}d}" for i in range(count)]


def _batch_names_free(*, project: Project, prefix: str, count: int) -> None:
    names = batch_names(prefix=prefix, count=count)
    taken = sorted(
        Batch.objects.filter(project=project, name__in=names).values_list("name", flat=True)
    )
    if taken:
        raise Conflict(
            f"The project already has batches named {', '.join(taken[:5])}"
            f"{' …' if len(taken) > 5 else ''}; choose another name_prefix.",
            field="name_prefix",
        )


@transaction.atomic
def batches_create(
    *,
    project: Project,
    name_prefix: str,
    global_keys: list | None = None,
    data_rows: list | None = None,
    priority: int | None = None,
    consensus_settings: dict | None = None,
    user=None,
) -> Job:
    """Start a `create_batches` job: up to 1,000,000 rows in batches of at most 100,000 named
    `<prefix>0000`, `<prefix>0001`, …. Refused before anything is created if a name is taken."""
    field, values = row_list(global_keys=global_keys, data_rows=data_rows)
    count = math.ceil(len(values) / MAX_BATCH_ROWS)
    _batch_names_free(project=project, prefix=name_prefix, count=count)
    return job_create_with_rows(
        kind="create_batches",
        params={
            "project_id": project.pk,
            "name_prefix": name_prefix,
            "field": field,
            "rows": len(values),
            "priority": priority,
            "consensus_settings": consensus_settings,
        },
        rows=values,
        user=user,
        total=len(values),
    )


@transaction.atomic
def batches_create_from_dataset(
    *,
    project: Project,
    name_prefix: str,
    dataset_id: str,
    version_id: str | None = None,
    priority: int | None = None,
    consensus_settings: dict | None = None,
    user=None,
) -> Job:
    """Start a `create_batches_from_dataset` job: every row of the dataset (or of one of its
    versions) not already in the project, chunked and named as `batches_create`."""
    dataset = Dataset.objects.filter(pk=dataset_id).first()
    if dataset is None:
        raise NotFound(f"No dataset with id {dataset_id!r}.", field="dataset_id")
    version = None
    if version_id:
        version = DatasetVersion.objects.filter(
            pk=version_id, dataset=dataset, removed=False
        ).first()
        if version is None:
            raise NotFound(
                f"Dataset {dataset.name!r} has no version with id {version_id!r}.",
                field="version_id",
            )
    total = dataset_rows_outside(project=project, dataset=dataset, version=version).count()
    if total == 0:
        raise Conflict(
            "Every row of this dataset is already in the project (or it has none).",
            field="dataset_id",
        )
    count = math.ceil(total / MAX_BATCH_ROWS)
    _batch_names_free(project=project, prefix=name_prefix, count=count)
    return job_create(
        kind="create_batches_from_dataset",
        params={
            "project_id": project.pk,
            "name_prefix": name_prefix,
            "dataset_id": dataset.pk,
            "version_id": version.pk if version else None,
            "priority": priority,
            "consensus_settings": consensus_settings,
        },
        user=user,
        total=total,
    )


# --- Editing batches and the queue order -------------------------------------------------------


@transaction.atomic
def batch_update(*, batch: Batch, name: Any = UNSET, priority: Any = UNSET) -> Batch:
    """Rename a batch and/or change its priority (its queue rows follow in one UPDATE)."""
    # FOR NO KEY UPDATE, as in `batch_remove_queued_data_rows`: a submit holds its queue row
    # and takes FOR KEY SHARE on the batch; FOR UPDATE here would wait for it while it waits
    # for the queue rows updated below (a deadlock on PostgreSQL).
    batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
    fields = []
    if name is not UNSET:
        if name != batch.name:
            if Batch.objects.filter(project_id=batch.project_id, name=name).exists():
                raise Conflict(f"The project already has a batch named {name!r}.", field="name")
            batch.name = name
            fields.append("name")
    if priority is not UNSET:
        if priority != batch.priority:
            batch.priority = priority
            fields.append("priority")
            batch_rows_reprioritise(batch.pk, priority)
    if fields:
        batch.save(update_fields=[*fields, "updated_at"])
        batch_event("batch.updated", batch, fields=fields, priority=batch.priority)
    return batch


# --- Removing rows, deleting labels and batches ------------------------------------------------


@transaction.atomic
def batch_remove_queued_data_rows(*, batch: Batch) -> dict[str, int]:
    """Rows of the batch with no labels leave the batch and the queue, except rows a labeler
    holds by a live reservation: those stay (their submit must not fail) until the reservation
    ends; a later call removes them if still unlabelled. Returns `{"removed", "held"}`."""
    # FOR NO KEY UPDATE: a label being submitted meanwhile (its insert checks the batch key
    # with FOR KEY SHARE while holding its queue row) must not deadlock with this removal.
    batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
    now = timezone.now()
    unlabelled = QueueEntry.objects.filter(batch=batch, labels_count=0)
    free = Q(state=QueueEntry.State.QUEUED) | Q(reserved_until__lt=now)
    # PostgreSQL: lock the removable rows first, so a concurrent `next` (SKIP LOCKED) cannot
    # reserve one between the statements below; a row reserved meanwhile no longer matches.
    list(unlabelled.filter(free).select_for_update().values_list("id", flat=True))
    removable = unlabelled.filter(free)
    rows = removable.values("data_row_id")
    rollup = RollupDelta(batch.project_id)
    skips_delete(
        Skip.objects.filter(project_id=batch.project_id, data_row_id__in=rows), rollup=rollup
    )
    removed, _ = removable.delete()
    held = unlabelled.count()
    Batch.objects.filter(pk=batch.pk).update(size=F("size") - removed, updated_at=timezone.now())
    if removed:
        batch_event("batch.rows_removed", batch, removed=removed, held=held)
        batch_completed_check(batch.pk)  # what is left may all be done
    rollup.flush()
    return {"removed": removed, "held": held}


def removed_text(result: dict[str, int]) -> str:
    """What `batch_remove_queued_data_rows` did, in words (pages and admin)."""
    removed, held = result["removed"], result["held"]
    text = f"{removed} row{'s' if removed != 1 else ''} removed"
    if held:
        text += (
            f"; {held} held by a labeler stay{'s' if held == 1 else ''} until the reservation "
            "ends (remove again later)"
        )
    return text


def labelled_entries(*, batch: Batch):
    """The batch's rows with labels: counted ones, or only rejected ones (rows re-queued
    for rework count none)."""
    return QueueEntry.objects.filter(
        Q(labels_count__gt=0) | Q(rework_label__isnull=False), batch=batch
    )


def batch_labels_clear(
    *, batch: Batch, entries: Iterable[int] | None, set_labels_as_template: bool
) -> tuple[int, int]:
    """Delete the labels of the batch's rows (all, or the queue entries given: the chunk of the
    `delete_labels` job) and re-queue those rows; returns (labels deleted, rows re-queued).
    Safe to run again."""
    scope = labelled_entries(batch=batch)
    if entries is not None:
        scope = scope.filter(pk__in=list(entries))
    # The rows first, as a submit takes them: deleting a label awaiting review moves its row's
    # count (a trigger), so the two never wait on each other crosswise.
    list(scope.select_for_update().values_list("id", flat=True))
    rows = scope.values("data_row_id")
    labels = Label.objects.filter(project_id=batch.project_id, data_row_id__in=rows)
    if set_labels_as_template:
        latest = (
            Label.objects.filter(project_id=batch.project_id, data_row_id=OuterRef("data_row_id"))
            .order_by("-id")
            .values("annotation")[:1]
        )
        scope.update(template=Subquery(latest))
    rollup = RollupDelta(batch.project_id)
    skips_delete(
        Skip.objects.filter(project_id=batch.project_id, data_row_id__in=rows), rollup=rollup
    )
    deleted = labels_delete(labels, rollup=rollup)
    requeued = scope.update(
        labels_count=0,
        state=QueueEntry.State.QUEUED,
        reserved_by=None,
        reserved_until=None,
        rework_label=None,
        escalated=False,  # its labels are gone: the row starts again
        agreement=None,  # no counted labels left
    )
    agreement_buckets_recount(batch=batch)
    if deleted:  # one event per call (a job's chunk: its own transaction)
        batch_event("labels.deleted", batch, count=deleted, as_template=set_labels_as_template)
    rollup.flush()
    return deleted, requeued


def batch_delete_labels(
    *, batch: Batch, set_labels_as_template: bool = False, user=None, force_job: bool = False
) -> dict | Job:
    """Delete every label of the batch and re-queue its rows (with templates, the deleted
    labels pre-fill the rows when served again). Small batches are done at once and answer
    `{"labels_deleted", "rows_requeued"}`; large ones (or `force_job`) start a job."""
    count = Label.objects.filter(batch=batch).count()
    if force_job or count > DELETE_LABELS_SYNC_LIMIT:
        with transaction.atomic():
            return job_create(
                kind="delete_labels",
                params={
                    "project_id": batch.project_id,
                    "batch_id": batch.pk,
                    "set_labels_as_template": set_labels_as_template,
                },
                user=user,
                total=QueueEntry.objects.filter(batch=batch, labels_count__gt=0).count(),
            )
    with transaction.atomic():
        deleted, requeued = batch_labels_clear(
            batch=batch, entries=None, set_labels_as_template=set_labels_as_template
        )
    return {"labels_deleted": deleted, "rows_requeued": requeued}


@transaction.atomic
def batch_delete(*, batch: Batch) -> None:
    """Delete a batch and its queue entries (the data rows stay); 409 while labels exist."""
    batch = Batch.objects.select_for_update().filter(pk=batch.pk).first()
    if batch is None:
        raise NotFound("No such batch (it was deleted).")
    labels = Label.objects.filter(batch=batch).count()
    if labels:
        raise Conflict(
            f"Batch {batch.name!r} has {labels} label{'s' if labels != 1 else ''}: delete its "
            "labels first.",
            extra={"labels_count": labels},
        )
    rows = QueueEntry.objects.filter(batch=batch).values("data_row_id")
    rollup = RollupDelta(batch.project_id)
    skips_delete(
        Skip.objects.filter(project_id=batch.project_id, data_row_id__in=rows), rollup=rollup
    )
    rollup.flush()
    QueueEntry.objects.filter(batch=batch).delete()
    batch_event("batch.deleted", batch)
    batch.delete()
