"""Writes on projects, batches, queue entries and labels: one implementation per verb, called
alike by the REST API, the admin, the pages and the jobs. Every function is keyword-only and
atomic; bad input raises `Invalid` (400, naming the field), `NotFound` (404) or `Conflict` (409).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import weakref
from collections.abc import Iterable
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from dashboard.errors import Conflict, Invalid, NotFound, validate_int32
from dashboard.jobs.services import job_create
from dashboard.models import Job
from versions.copy_on_write import effective_entries
from versions.models import DataRow, Dataset, DatasetVersion

from .export import export_count, export_options
from .models import NO_PRIORITY_SORT, Batch, JobInput, Label, Project, QueueEntry, Skip
from .selectors import labels_to_publish

MAX_BATCH_ROWS = 100_000
MAX_BATCHES_ROWS = 1_000_000
MAX_PRIORITY_ROWS = 1_000_000
# Row overrides and label deletions above these sizes run as jobs (the API answers 202).
PRIORITIES_SYNC_LIMIT = 10_000
DELETE_LABELS_SYNC_LIMIT = 10_000
LOOKUP_CHUNK = 10_000
NAME_SUFFIX_DIGITS = 4
UNSET: Any = object()


def _user_or_none(user):
    return user if user is not None and getattr(user, "pk", None) else None


# --- Projects ---------------------------------------------------------------------------------


def _project_fields(
    *,
    name: Any = UNSET,
    description: Any = UNSET,
    label_classes: Any = UNSET,
    reservation_seconds: Any = UNSET,
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if name is not UNSET:
        if not isinstance(name, str) or not name.strip():
            raise Invalid("A project needs a name.", field="name")
        if len(name.strip()) > 255:
            raise Invalid("At most 255 characters.", field="name")
        fields["name"] = name.strip()
    if description is not UNSET:
        if not isinstance(description, str):
            raise Invalid("Must be a string.", field="description")
        fields["description"] = description
    if label_classes is not UNSET:
        if label_classes is None:
            label_classes = []
        if not isinstance(label_classes, list) or not all(
            isinstance(c, str) and c.strip() for c in label_classes
        ):
            raise Invalid("Must be a list of non-empty strings.", field="label_classes")
        if len(set(label_classes)) != len(label_classes):
            raise Invalid("Label classes must be unique.", field="label_classes")
        fields["label_classes"] = list(label_classes)
    if reservation_seconds is not UNSET:
        if (
            isinstance(reservation_seconds, bool)
            or not isinstance(reservation_seconds, int)
            or not 10 <= reservation_seconds <= 7 * 24 * 3600
        ):
            raise Invalid(
                "Must be a whole number of seconds between 10 and 604800 (a week).",
                field="reservation_seconds",
            )
        fields["reservation_seconds"] = reservation_seconds
    return fields


def project_create(
    *,
    name: str,
    description: str = "",
    label_classes: list | None = None,
    reservation_seconds: int = 600,
    user=None,
) -> Project:
    fields = _project_fields(
        name=name,
        description=description,
        label_classes=label_classes,
        reservation_seconds=reservation_seconds,
    )
    return Project.objects.create(**fields, created_by=_user_or_none(user))


@transaction.atomic
def project_update(
    *,
    project: Project,
    name: Any = UNSET,
    description: Any = UNSET,
    label_classes: Any = UNSET,
    reservation_seconds: Any = UNSET,
) -> Project:
    """Edit a project; only the fields given change."""
    fields = _project_fields(
        name=name,
        description=description,
        label_classes=label_classes,
        reservation_seconds=reservation_seconds,
    )
    for key, value in fields.items():
        setattr(project, key, value)
    if fields:
        project.save(update_fields=[*fields, "updated_at"])
    return project


# --- Creating batches --------------------------------------------------------------------------


def consensus_validate(settings: Any) -> dict | None:
    if settings is None:
        return None
    if not isinstance(settings, dict):
        raise Invalid(
            "Must be an object {number_of_labels, coverage_percentage} or null.",
            field="consensus_settings",
        )
    unknown = set(settings) - {"number_of_labels", "coverage_percentage"}
    if unknown:
        raise Invalid(f"Unknown keys: {', '.join(sorted(unknown))}.", field="consensus_settings")
    n, cover = settings.get("number_of_labels"), settings.get("coverage_percentage")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 100:
        raise Invalid(
            "number_of_labels must be an integer between 1 and 100.", field="consensus_settings"
        )
    if isinstance(cover, bool) or not isinstance(cover, int | float) or not 0 < cover <= 1:
        raise Invalid("coverage_percentage must be a number in (0, 1].", field="consensus_settings")
    return {"number_of_labels": n, "coverage_percentage": float(cover)}


def consensus_covers(*, batch_id: str, data_row_id: str, coverage: float) -> bool:
    """Reproducible choice of the consensus share: a hash of batch and row, not a die roll."""
    digest = hashlib.sha1(f"{batch_id}:{data_row_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < coverage


def _row_input(*, global_keys: Any, data_rows: Any, limit: int) -> tuple[str, list[str]]:
    """Check the row list: exactly one of the two, a list of strings, at most `limit`."""
    if global_keys is not None and data_rows is not None:
        raise Invalid(
            "Give exactly one of global_keys or data_rows, not both.", field="global_keys"
        )
    if global_keys is None and data_rows is None:
        raise Invalid("Give exactly one of global_keys or data_rows.", field="global_keys")
    field, values = (
        ("global_keys", global_keys) if global_keys is not None else ("data_rows", data_rows)
    )
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise Invalid("Must be a list of non-empty strings.", field=field)
    if not values:
        raise Invalid("Give at least one row.", field=field)
    if len(values) > limit:
        raise Invalid(f"At most {limit} rows are accepted; got {len(values)}.", field=field)
    return field, values


def _failure(*, index: int | None, data_row: str | None, global_key: str | None, reason: str):
    return {"index": index, "data_row": data_row, "global_key": global_key, "reason": reason}


def _resolve_rows(
    *, field: str, values: list[str], offset: int = 0
) -> tuple[list[str], list[dict]]:
    """Map the input to data row ids in input order; unknown ones and repeats become failed
    rows (with their 0-based `index` in the input, counted from `offset`)."""
    column = "global_key" if field == "global_keys" else "id"
    known: dict[str, str] = {}
    for start in range(0, len(values), LOOKUP_CHUNK):
        part = values[start : start + LOOKUP_CHUNK]
        known.update(DataRow.objects.filter(**{f"{column}__in": part}).values_list(column, "id"))
    ids, failed, seen = [], [], set()
    for i, value in enumerate(values):
        row_id = known.get(value)
        gk = value if column == "global_key" else None
        if row_id is None:
            failed.append(
                _failure(
                    index=offset + i,
                    data_row=None if gk else value,
                    global_key=gk,
                    reason="unknown",
                )
            )
        elif row_id in seen:
            failed.append(
                _failure(
                    index=offset + i, data_row=row_id, global_key=gk, reason="duplicate in input"
                )
            )
        else:
            seen.add(row_id)
            ids.append(row_id)
    return ids, failed


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


def _batch_create_rows(
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
    """Create one batch of resolved row ids (≤ 100,000) inside the caller's transaction."""
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
                created_by=_user_or_none(user),
                dataset=dataset,
                version=version,
            )
            taken = _insert_entries(project=project, batch=batch, ids=ids, consensus=consensus)
            failed = []
            if taken:
                keys = dict(DataRow.objects.filter(pk__in=taken).values_list("id", "global_key"))
                failed = [
                    _failure(
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
    except IntegrityError as exc:
        # A concurrent writer won the name or the rows between our checks and our insert.
        raise Conflict(
            "Another change to this project's batches happened at the same time; try again."
        ) from exc
    return batch, failed


def _strip_index(failed: list[dict]) -> list[dict]:
    return [{k: f[k] for k in ("data_row", "global_key", "reason")} for f in failed]


def _name_clean(name: Any, *, field: str = "name", max_length: int = 255) -> str:
    if not isinstance(name, str) or not name.strip():
        raise Invalid("This field is required.", field=field)
    name = name.strip()
    if len(name) > max_length:
        raise Invalid(f"At most {max_length} characters.", field=field)
    return name


def batch_create(
    *,
    project: Project,
    name: str = "",
    global_keys: list | None = None,
    data_rows: list | None = None,
    priority: int | None = None,
    consensus_settings: dict | None = None,
    user=None,
    dataset=None,
    version=None,
) -> tuple[Batch | None, list[dict]]:
    """Create a batch of rows not yet in the project; returns (batch, failed rows). If every
    row fails, no batch is left behind (batch None)."""
    name = _name_clean(name)
    priority = validate_int32(priority, field="priority")
    consensus = consensus_validate(consensus_settings)
    field, values = _row_input(global_keys=global_keys, data_rows=data_rows, limit=MAX_BATCH_ROWS)
    ids, failed = _resolve_rows(field=field, values=values)
    with transaction.atomic():
        if Batch.objects.filter(project=project, name=name).exists():
            raise Conflict(f"The project already has a batch named {name!r}.", field="name")
        if not ids:
            return None, _strip_index(failed)
        batch, more = _batch_create_rows(
            project=project,
            name=name,
            ids=ids,
            priority=priority,
            consensus=consensus,
            user=user,
            dataset=dataset,
            version=version,
        )
    return batch, _strip_index(failed + more)


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


def _job_with_input(*, kind: str, params: dict, rows: list, user, total: int) -> Job:
    job = job_create(kind=kind, params=params, user=user, total=total)
    JobInput.objects.create(job=job, rows=rows)
    return job


@transaction.atomic
def batches_create(
    *,
    project: Project,
    name_prefix: str = "",
    global_keys: list | None = None,
    data_rows: list | None = None,
    priority: int | None = None,
    consensus_settings: dict | None = None,
    user=None,
) -> Job:
    """Start a `create_batches` job: up to 1,000,000 rows in batches of at most 100,000 named
    `<prefix>0000`, `<prefix>0001`, …. Refused before anything is created if a name is taken."""
    prefix = _name_clean(name_prefix, field="name_prefix", max_length=240)
    priority = validate_int32(priority, field="priority")
    consensus = consensus_validate(consensus_settings)
    field, values = _row_input(global_keys=global_keys, data_rows=data_rows, limit=MAX_BATCHES_ROWS)
    count = math.ceil(len(values) / MAX_BATCH_ROWS)
    _batch_names_free(project=project, prefix=prefix, count=count)
    return _job_with_input(
        kind="create_batches",
        params={
            "project_id": project.pk,
            "name_prefix": prefix,
            "field": field,
            "rows": len(values),
            "priority": priority,
            "consensus_settings": consensus,
        },
        rows=values,
        user=user,
        total=len(values),
    )


def _dataset_rows(*, project: Project, dataset: Dataset, version: DatasetVersion | None):
    """Ids of the dataset's (or version's) rows not already in the project, in id order."""
    if version is not None:
        rows = DataRow.objects.filter(pk__in=effective_entries(version).values("data_row_id"))
    else:
        rows = DataRow.objects.filter(dataset=dataset)
    in_project = QueueEntry.objects.filter(project=project, data_row_id=OuterRef("pk"))
    return rows.exclude(Exists(in_project)).order_by("id").values_list("id", flat=True)


@transaction.atomic
def batches_create_from_dataset(
    *,
    project: Project,
    name_prefix: str = "",
    dataset_id: Any = None,
    version_id: Any = None,
    priority: int | None = None,
    consensus_settings: dict | None = None,
    user=None,
) -> Job:
    """Start a `create_batches_from_dataset` job: every row of the dataset (or of one of its
    versions) not already in the project, chunked and named as `batches_create`."""
    prefix = _name_clean(name_prefix, field="name_prefix", max_length=240)
    priority = validate_int32(priority, field="priority")
    consensus = consensus_validate(consensus_settings)
    if not isinstance(dataset_id, str) or not dataset_id:
        raise Invalid("This field is required.", field="dataset_id")
    dataset = Dataset.objects.filter(pk=dataset_id).first()
    if dataset is None:
        raise NotFound(f"No dataset with id {dataset_id!r}.", field="dataset_id")
    version = None
    if version_id not in (None, ""):
        if not isinstance(version_id, str):
            raise Invalid("Must be a version id.", field="version_id")
        version = DatasetVersion.objects.filter(
            pk=version_id, dataset=dataset, removed=False
        ).first()
        if version is None:
            raise NotFound(
                f"Dataset {dataset.name!r} has no version with id {version_id!r}.",
                field="version_id",
            )
    total = _dataset_rows(project=project, dataset=dataset, version=version).count()
    if total == 0:
        raise Invalid(
            "Every row of this dataset is already in the project (or it has none).",
            field="dataset_id",
        )
    _batch_names_free(project=project, prefix=prefix, count=math.ceil(total / MAX_BATCH_ROWS))
    return job_create(
        kind="create_batches_from_dataset",
        params={
            "project_id": project.pk,
            "name_prefix": prefix,
            "dataset_id": dataset.pk,
            "version_id": version.pk if version else None,
            "priority": priority,
            "consensus_settings": consensus,
        },
        user=user,
        total=total,
    )


# --- Editing batches and the queue order -------------------------------------------------------


def _sort_from_batch_priority(priority: int | None) -> int:
    return NO_PRIORITY_SORT if priority is None else priority


def _requeue_priority(batch_id: str, priority: int | None) -> int:
    """One set-based UPDATE: the batch's rows without an override take its priority."""
    return QueueEntry.objects.filter(batch_id=batch_id, priority_override__isnull=True).update(
        sort_priority=_sort_from_batch_priority(priority)
    )


@transaction.atomic
def batch_update(*, batch: Batch, name: Any = UNSET, priority: Any = UNSET) -> Batch:
    """Rename a batch and/or change its priority (its queue rows follow in one UPDATE)."""
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    fields = []
    if name is not UNSET:
        name = _name_clean(name)
        if name != batch.name:
            if Batch.objects.filter(project_id=batch.project_id, name=name).exists():
                raise Conflict(f"The project already has a batch named {name!r}.", field="name")
            batch.name = name
            fields.append("name")
    if priority is not UNSET:
        priority = validate_int32(priority, field="priority")
        if priority != batch.priority:
            batch.priority = priority
            fields.append("priority")
            _requeue_priority(batch.pk, priority)
    if fields:
        batch.save(update_fields=[*fields, "updated_at"])
    return batch


def _batch_order_key(batch: Batch) -> tuple:
    return (_sort_from_batch_priority(batch.priority), batch.created_at, batch.pk)


@transaction.atomic
def batches_reorder(*, project: Project, batch_ids: Any) -> list[Batch]:
    """Serve the listed batches first, in the given order, the rest after them in their old
    order: priorities 1, 2, … are assigned; only batches whose priority changes are written."""
    if (
        not isinstance(batch_ids, list)
        or not batch_ids
        or not all(isinstance(b, str) for b in batch_ids)
    ):
        raise Invalid("Must be a non-empty list of batch ids.", field="batch_ids")
    if len(set(batch_ids)) != len(batch_ids):
        raise Invalid("A batch may be listed only once.", field="batch_ids")
    batches = {b.pk: b for b in Batch.objects.select_for_update().filter(project=project)}
    unknown = [b for b in batch_ids if b not in batches]
    if unknown:
        raise Invalid(f"Not batches of this project: {', '.join(unknown[:5])}.", field="batch_ids")
    listed = [batches[b] for b in batch_ids]
    rest = sorted((b for b in batches.values() if b.pk not in set(batch_ids)), key=_batch_order_key)
    ordered = listed + rest
    for position, batch in enumerate(ordered, start=1):
        if batch.priority != position:
            batch.priority = position
            batch.save(update_fields=["priority", "updated_at"])
            _requeue_priority(batch.pk, position)
    return ordered


def batch_move(*, batch: Batch, direction: str) -> list[Batch]:
    """Move a batch one place up or down in the serving order (the pages' reorder buttons)."""
    if direction not in ("up", "down"):
        raise Invalid("Must be up or down.", field="direction")
    order = sorted(Batch.objects.filter(project_id=batch.project_id), key=_batch_order_key)
    ids = [b.pk for b in order]
    i = ids.index(batch.pk)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
    return batches_reorder(project=batch.project, batch_ids=ids)


def _priority_items(items: Any) -> list[tuple[str, str, int | None]]:
    """Validate `[{data_row | global_key, priority}]` → (column, value, priority) triples."""
    if not isinstance(items, list) or not items:
        raise Invalid(
            "Must be a non-empty list of {data_row | global_key, priority}.", field="items"
        )
    if len(items) > MAX_PRIORITY_ROWS:
        raise Invalid(
            f"At most {MAX_PRIORITY_ROWS} rows are accepted; got {len(items)}.", field="items"
        )
    clean = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise Invalid(f"Item {i} must be an object.", field="items")
        unknown = set(item) - {"data_row", "global_key", "priority"}
        if unknown:
            raise Invalid(
                f"Item {i} has unknown keys: {', '.join(sorted(unknown))}.", field="items"
            )
        has_id, has_key = item.get("data_row") is not None, item.get("global_key") is not None
        if has_id == has_key:
            raise Invalid(f"Item {i} needs exactly one of data_row or global_key.", field="items")
        if "priority" not in item:
            raise Invalid(
                f"Item {i} needs a priority (an integer, or null to remove).", field="items"
            )
        value = item["data_row"] if has_id else item["global_key"]
        if not isinstance(value, str) or not value:
            raise Invalid(f"Item {i}: the row must be a non-empty string.", field="items")
        try:
            priority = validate_int32(item["priority"], field="priority")
        except Invalid as exc:
            raise Invalid(f"Item {i}: {exc.message}", field="items") from None
        clean.append(("id" if has_id else "global_key", value, priority))
    return clean


def _apply_priorities(
    *, project: Project, items: list[tuple[str, str, int | None]], offset: int = 0
) -> tuple[int, list[dict]]:
    """Write row overrides for one chunk; returns (updated, failed rows with input index)."""
    ids_by_key = dict(
        DataRow.objects.filter(
            global_key__in=[v for c, v, _ in items if c == "global_key"]
        ).values_list("global_key", "id")
    )
    wanted: dict[str, int | None] = {}
    index_of: dict[str, int] = {}
    failed = []
    for i, (column, value, priority) in enumerate(items):
        row_id = value if column == "id" else ids_by_key.get(value)
        gk = value if column == "global_key" else None
        if row_id is None:
            failed.append(
                _failure(index=offset + i, data_row=None, global_key=gk, reason="unknown")
            )
            continue
        wanted[row_id] = priority  # the last item for a row wins
        index_of[row_id] = offset + i
    queued = set(
        QueueEntry.objects.filter(project=project, data_row_id__in=list(wanted)).values_list(
            "data_row_id", flat=True
        )
    )
    for row_id in [r for r in wanted if r not in queued]:
        failed.append(
            _failure(
                index=index_of[row_id],
                data_row=row_id,
                global_key=None,
                reason="not in this project's queue",
            )
        )
        del wanted[row_id]
    if not wanted:
        return 0, failed
    table, batch_table = QueueEntry._meta.db_table, Batch._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""
                UPDATE {table} AS q
                SET priority_override = v.priority,
                    sort_priority = COALESCE(v.priority, b.priority, %s)
                FROM unnest(%s::varchar[], %s::integer[]) AS v(data_row_id, priority),
                     {batch_table} AS b
                WHERE q.project_id = %s AND q.data_row_id = v.data_row_id AND b.id = q.batch_id
                """,
                [NO_PRIORITY_SORT, list(wanted), list(wanted.values()), project.pk],
            )
        else:
            cursor.executemany(
                f"""
                UPDATE {table}
                SET priority_override = %s,
                    sort_priority = COALESCE(%s, (SELECT b.priority FROM {batch_table} AS b
                                                  WHERE b.id = {table}.batch_id), %s)
                WHERE project_id = %s AND data_row_id = %s
                """,
                [(p, p, NO_PRIORITY_SORT, project.pk, r) for r, p in wanted.items()],
            )
    return len(wanted), failed


def priorities_set(*, project: Project, items: Any, user=None) -> dict | Job:
    """Row priority overrides in bulk (`null` removes one). Up to 10,000 rows answer at once
    `{"updated", "failed"}`; more (≤ 1,000,000) start a `set_priorities` job."""
    clean = _priority_items(items)
    if len(clean) > PRIORITIES_SYNC_LIMIT:
        with transaction.atomic():
            return _job_with_input(
                kind="set_priorities",
                params={"project_id": project.pk, "rows": len(clean)},
                rows=[list(item) for item in clean],
                user=user,
                total=len(clean),
            )
    with transaction.atomic():
        updated, failed = _apply_priorities(project=project, items=clean)
    return {"updated": updated, "failed": _strip_index(failed)}


# --- Serving: next, submit, skip ---------------------------------------------------------------
#
# The queue table is the hottest one. On PostgreSQL each verb is one statement in autocommit:
# one round trip, no transaction held open, row locks only for the statement's own rows. SQLite
# (writers serialised anyway) runs the same steps as a few statements in one transaction.

_QUEUE = QueueEntry._meta.db_table
_LABEL = Label._meta.db_table
_SKIP = Skip._meta.db_table
# What `next` and `skip` answer with: the entry `t`, its data row and its batch.
_ENTRY_COLUMNS = (
    "t.id, t.batch_id, t.data_row_id, t.sort_priority, t.labels_required, t.labels_count, "
    "t.template, d.global_key, d.row_data, b.name"
)
_ENTRY_JOINS = f"{DataRow._meta.db_table} AS d, {Batch._meta.db_table} AS b"
_ENTRY_JOINED = "d.id = t.data_row_id AND b.id = t.batch_id"
# The caller's reservation of the entry named in the request.
_HELD = (
    "id = %(entry)s AND project_id = %(project)s AND state = 'reserved' "
    "AND reserved_by_id = %(user)s"
)
_BIGINT = 2**63
# The SQL types of the serving statements' parameters.
_PARAM_TYPES = {
    "entry": "bigint",
    "project": "varchar",
    "user": "bigint",  # integer or bigint user ids alike
    "now": "timestamptz",
    "until": "timestamptz",
    "annotation": "jsonb",
}


class _Prepared:
    """A PostgreSQL statement prepared on its second use in a connection, then run with
    EXECUTE: parsing and planning the serving statements cost more than running them (~0.3 ms
    against ~0.2 ms). The first use runs it plainly, so a connection opened for one request
    (CONN_MAX_AGE=0) pays no extra round trip."""

    # connection → {statement name: uses so far, or PREPARED}
    _uses: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    PREPARED = -1

    def __init__(self, name: str, sql: str):
        self.name, self.sql = name, sql
        self.params = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))
        for number, param in enumerate(self.params, 1):
            sql = sql.replace(f"%({param})s", f"${number}")
        types = ", ".join(_PARAM_TYPES[param] for param in self.params)
        self.prepare = f"PREPARE {name} ({types}) AS {sql}"
        self.execute = f"EXECUTE {name} ({', '.join(['%s'] * len(self.params))})"

    def fetchone(self, cursor, params: dict) -> tuple | None:
        uses = self._uses.setdefault(cursor.db.connection, {})
        used = uses.get(self.name, 0)
        if used == self.PREPARED:
            cursor.execute(self.execute, [params[param] for param in self.params])
        elif used:
            cursor.execute(self.prepare)
            uses[self.name] = self.PREPARED
            cursor.execute(self.execute, [params[param] for param in self.params])
        else:
            uses[self.name] = 1
            cursor.execute(self.sql, params)
        return cursor.fetchone()


def _serving_sql(*, postgres: bool) -> str:
    """The first row `%(user)s` may take, in serving order (on PostgreSQL locked, skipping rows
    other labelers are taking at this moment)."""
    # The candidate filter matches the partial index `queueentry_serving_order`
    # (project_id, sort_priority, id) WHERE NOT state = 'done': the scan starts at the head of
    # the queue and stops at the first row this labeler may take, whatever the queue's size.
    # OFFSET 0 keeps PostgreSQL from planning NOT EXISTS as an anti-join that reads all of the
    # labeler's labels on every call: as subplans they are one unique-index probe per row read.
    probe = " OFFSET 0" if postgres else ""
    return f"""
        SELECT q.id FROM {_QUEUE} AS q
        WHERE q.project_id = %(project)s
          AND NOT (q.state = 'done')
          AND (q.state = 'queued' OR q.reserved_until < %(now)s)
          AND NOT EXISTS (SELECT 1 FROM {_LABEL} AS l WHERE l.project_id = q.project_id
                          AND l.data_row_id = q.data_row_id AND l.author_id = %(user)s{probe})
          AND NOT EXISTS (SELECT 1 FROM {_SKIP} AS s WHERE s.project_id = q.project_id
                          AND s.data_row_id = q.data_row_id AND s.user_id = %(user)s{probe})
        ORDER BY q.sort_priority, q.id
        LIMIT 1{" FOR UPDATE OF q SKIP LOCKED" if postgres else ""}
    """


@functools.cache
def _next_sql(*, postgres: bool) -> str:
    """Reserve one row: the caller's own reservation if they still hold it (expired or not:
    nobody took it), else the first row they may take. PostgreSQL returns the answer joined."""
    return f"""
        UPDATE {_QUEUE} AS t
        SET state = 'reserved', reserved_by_id = %(user)s, reserved_until = %(until)s
        {f"FROM {_ENTRY_JOINS}" if postgres else ""}
        WHERE t.id = COALESCE(
            (SELECT m.id FROM {_QUEUE} AS m WHERE m.project_id = %(project)s
               AND m.state = 'reserved' AND m.reserved_by_id = %(user)s
               {"FOR UPDATE" if postgres else ""}),
            ({_serving_sql(postgres=postgres)}))
          {f"AND {_ENTRY_JOINED}" if postgres else ""}
        RETURNING {_ENTRY_COLUMNS if postgres else "id"}
    """


_ENTRY_SQL = f"SELECT {_ENTRY_COLUMNS} FROM {_QUEUE} AS t, {_ENTRY_JOINS} WHERE t.id = %s AND "
_ENTRY_SQL += _ENTRY_JOINED


@functools.cache
def _count_label_sql(*, held: bool) -> str:
    """One more label on the entry, which leaves any reservation: done once it has them all.
    (The check constraint `queueentry_labels_within_required` refuses one too many.)"""
    where = _HELD if held else "id = %(entry)s AND project_id = %(project)s"
    return f"""
        UPDATE {_QUEUE}
        SET labels_count = labels_count + 1,
            state = CASE WHEN labels_count + 1 >= labels_required THEN 'done' ELSE 'queued' END,
            template = CASE WHEN labels_count + 1 >= labels_required THEN NULL ELSE template END,
            reserved_by_id = NULL, reserved_until = NULL
        WHERE {where}
        RETURNING batch_id, data_row_id
    """


_INSERT_LABEL = (
    f"INSERT INTO {_LABEL} (project_id, batch_id, data_row_id, author_id, annotation, "
    "created_at) SELECT %(project)s, {batch}, {data_row}, %(user)s, %(annotation)s, %(now)s"
)


@functools.cache
def _label_statement(*, held: bool) -> _Prepared:
    """PostgreSQL: count the label on the entry and insert it, in one statement."""
    insert = _INSERT_LABEL.format(batch="e.batch_id", data_row="e.data_row_id")
    return _Prepared(
        f"labelops_label_{'held' if held else 'any'}",
        f"WITH e AS ({_count_label_sql(held=held)}) {insert} FROM e "
        "RETURNING id, batch_id, data_row_id",
    )


_NEXT_POSTGRES = _Prepared("labelops_queue_next", _next_sql(postgres=True))
_SKIP_POSTGRES = _Prepared(
    "labelops_queue_skip",
    f"""
    WITH t AS (
        UPDATE {_QUEUE} SET state = 'queued', reserved_by_id = NULL, reserved_until = NULL
        WHERE {_HELD}
        RETURNING *
    ), skipped AS (
        INSERT INTO {_SKIP} (project_id, data_row_id, user_id, created_at)
        SELECT project_id, data_row_id, %(user)s, %(now)s FROM t
        ON CONFLICT DO NOTHING
    )
    SELECT {_ENTRY_COLUMNS} FROM t, {_ENTRY_JOINS} WHERE {_ENTRY_JOINED}
    """,
)


def _serving_db():
    """The database connection, looked up once per call (each `connection.x` is a lookup in
    thread-local storage, and those added up to a tenth of the Python time of next+submit)."""
    return connections[DEFAULT_DB_ALIAS]


def _serving_transaction(db):
    """On PostgreSQL each verb is one statement, atomic by itself; inside a caller's transaction
    a savepoint keeps that transaction usable if it fails. SQLite runs a verb's statements in
    one transaction."""
    if db.vendor == "postgresql" and not db.in_atomic_block:
        return nullcontext()
    return transaction.atomic(using=db.alias)


def _db_time(db, value):
    """A datetime as the ORM stores it (SQLite keeps naive UTC text)."""
    return db.ops.adapt_datetimefield_value(value)


def _loaded(db, model, **values):
    """A `model` instance as the ORM loads a partial row: other fields are read on first use."""
    fields = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(db.alias, fields, [values[name] for name in fields])


def _served_entry(db, row, *, project: Project, state: str, user, until) -> QueueEntry:
    """The QueueEntry of an `_ENTRY_COLUMNS` row, with its data row and batch."""
    entry_id, batch_id, row_id, sort, required, count, template, key, row_data, name = row
    if isinstance(template, str):
        template = json.loads(template)
    entry = _loaded(
        db,
        QueueEntry,
        id=entry_id,
        project_id=project.pk,
        batch_id=batch_id,
        data_row_id=row_id,
        state=state,
        sort_priority=sort,
        labels_required=required,
        labels_count=count,
        reserved_by_id=user.pk if user is not None else None,
        reserved_until=until,
        template=template,
    )
    entry.project, entry.reserved_by = project, user
    entry.data_row = _loaded(db, DataRow, id=row_id, global_key=key, row_data=row_data)
    entry.batch = _loaded(db, Batch, id=batch_id, project_id=project.pk, name=name)
    return entry


def queue_next(*, project: Project, user) -> QueueEntry | None:
    """Reserve the next row for `user`, or renew the reservation they still hold.

    One statement on PostgreSQL: `UPDATE … WHERE id = COALESCE(the caller's reservation,
    the first row they may take)`, the latter `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent
    labelers never wait for or take the same row; it returns the answer joined with the data
    row and batch. A unique index allows one reservation per labeler: if two of their requests
    race, the loser retries and renews the winner's reservation.
    """
    db = _serving_db()
    for _attempt in range(3):
        try:
            with _serving_transaction(db):
                return _reserve(db, project=project, user=user)
        except IntegrityError:
            continue  # the same labeler reserved concurrently: renew that one instead
    raise Conflict("Too many simultaneous requests for the next row; try again.")


def _reserve(db, *, project: Project, user) -> QueueEntry | None:
    now = timezone.now()
    until = now + timedelta(seconds=project.reservation_seconds)
    params = {"project": project.pk, "user": user.pk, "now": _db_time(db, now)}
    params["until"] = _db_time(db, until)
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            row = _NEXT_POSTGRES.fetchone(cursor, params)
        else:  # SQLite's RETURNING cannot read joined tables
            cursor.execute(_next_sql(postgres=False), params)
            row = cursor.fetchone()
            if row is not None:
                cursor.execute(_ENTRY_SQL, [row[0]])
                row = cursor.fetchone()
    if row is None:
        return None
    return _served_entry(
        db, row, project=project, state=QueueEntry.State.RESERVED, user=user, until=until
    )


def _entry_id(entry_id: Any) -> int:
    try:
        value = int(entry_id)
    except (TypeError, ValueError):
        value = None
    if value is None or not -_BIGINT <= value < _BIGINT:
        raise NotFound(f"No queue entry {entry_id!r} in this project.")
    return value


def _not_held(*, project: Project, entry_id: int) -> Exception:
    """Why a write on a held entry found nothing: 404 unknown entry, else 409 not yours."""
    if not QueueEntry.objects.filter(pk=entry_id, project=project).exists():
        return NotFound(f"No queue entry {entry_id!r} in this project.")
    return Conflict(
        "You do not hold a reservation on this row (it expired and was taken, or was "
        "never yours): take the next row."
    )


def _label_conflict(exc: IntegrityError) -> Conflict | None:
    message = str(exc)
    if "queueentry_labels_within_required" in message:
        return Conflict("This row already has all the labels it needs.")
    # PostgreSQL names the constraint, SQLite its columns.
    if "label_once_per_author" in message or f"{_LABEL}.author_id" in message:
        return Conflict("You have already labelled this row.")
    return None


def _check_annotation_size(annotation: Any) -> None:
    """An annotation is at most `LABEL_MAX_ANNOTATION_BYTES` of compact UTF-8 JSON (the
    request that carried it is bounded already: encoding it once is cheap)."""
    limit = django_settings.LABEL_MAX_ANNOTATION_BYTES
    text = json.dumps(annotation, separators=(",", ":"), ensure_ascii=False)
    # Characters ≤ bytes ≤ 4 × characters: encode only when the length cannot decide.
    if len(text) > limit or (4 * len(text) > limit and len(text.encode()) > limit):
        raise Invalid(
            f"An annotation is at most {limit} bytes of JSON (LABEL_MAX_ANNOTATION_BYTES).",
            field="annotation",
        )


def _check_annotation(*, project: Project, annotation: Any) -> dict:
    if not isinstance(annotation, dict):
        raise Invalid("Must be a JSON object.", field="annotation")
    classes = annotation.get("classes")
    if classes is not None:
        if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
            raise Invalid("classes must be a list of strings.", field="annotation")
        unknown = [c for c in classes if project.label_classes and c not in project.label_classes]
        if unknown:
            raise Invalid(
                f"Not label classes of this project: {', '.join(unknown)}.", field="annotation"
            )
    return annotation


def _label_record(
    *, project: Project, entry_id: int, author, annotation: dict, held: bool
) -> Label:
    """Record `author`'s label on the entry and count it (with `held`, only on the entry they
    hold, whose reservation ends). One statement on PostgreSQL."""
    _check_annotation_size(annotation)
    db, now = _serving_db(), timezone.now()
    params = {
        "entry": entry_id,
        "project": project.pk,
        "user": author.pk,
        "annotation": Label._meta.get_field("annotation").get_db_prep_value(annotation, db),
        "now": _db_time(db, now),
    }
    try:
        with _serving_transaction(db), db.cursor() as cursor:
            row = _label_insert(cursor, params, held=held)
    except IntegrityError as exc:
        conflict = _label_conflict(exc)
        if conflict is None:
            raise
        raise conflict from None
    if row is None:
        raise _not_held(project=project, entry_id=entry_id)
    label_id, batch_id, row_id = row
    label = _loaded(
        db,
        Label,
        id=label_id,
        project_id=project.pk,
        batch_id=batch_id,
        data_row_id=row_id,
        author_id=author.pk,
        annotation=annotation,
        created_at=now,
    )
    label.project, label.author = project, author
    return label


def _label_insert(cursor, params: dict, *, held: bool) -> tuple | None:
    """(label id, batch id, data row id) of the new label, or None: no such entry (held)."""
    if cursor.db.vendor == "postgresql":
        return _label_statement(held=held).fetchone(cursor, params)
    cursor.execute(_count_label_sql(held=held), params)
    entry = cursor.fetchone()
    if entry is None:
        return None
    insert = _INSERT_LABEL.format(batch="%(batch)s", data_row="%(data_row)s")
    cursor.execute(f"{insert} RETURNING id", {**params, "batch": entry[0], "data_row": entry[1]})
    return cursor.fetchone()[0], *entry


def label_create(*, entry: QueueEntry, author, annotation: dict) -> Label:
    """Record `author`'s label for the entry's row (demo data, imports); no reservation needed."""
    return _label_record(
        project=entry.project, entry_id=entry.pk, author=author, annotation=annotation, held=False
    )


def label_submit(*, project: Project, entry_id: Any, user, annotation: Any) -> Label:
    """Submit the caller's label for a row they hold (even past its expiry, as long as nobody
    took it); the reservation ends. 400 bad annotation, 404 unknown entry, 409 not held."""
    annotation = _check_annotation(project=project, annotation=annotation)
    return _label_record(
        project=project, entry_id=_entry_id(entry_id), author=user, annotation=annotation, held=True
    )


def queue_skip(*, project: Project, entry_id: Any, user) -> QueueEntry:
    """Pass on a held row: it returns to the queue and is never served to this labeler again."""
    db, entry_id = _serving_db(), _entry_id(entry_id)
    params = {"entry": entry_id, "project": project.pk, "user": user.pk}
    params["now"] = _db_time(db, timezone.now())
    with _serving_transaction(db), db.cursor() as cursor:
        row = _skip_release(cursor, params)
    if row is None:
        raise _not_held(project=project, entry_id=entry_id)
    state = QueueEntry.State.QUEUED
    return _served_entry(db, row, project=project, state=state, user=None, until=None)


def _skip_release(cursor, params: dict) -> tuple | None:
    if cursor.db.vendor == "postgresql":
        return _SKIP_POSTGRES.fetchone(cursor, params)
    cursor.execute(
        f"UPDATE {_QUEUE} SET state = 'queued', reserved_by_id = NULL, reserved_until = NULL "
        f"WHERE {_HELD} RETURNING id, data_row_id",
        params,
    )
    entry = cursor.fetchone()
    if entry is None:
        return None
    cursor.execute(
        f"INSERT INTO {_SKIP} (project_id, data_row_id, user_id, created_at) "
        "VALUES (%(project)s, %(data_row)s, %(user)s, %(now)s) ON CONFLICT DO NOTHING",
        {**params, "data_row": entry[1]},
    )
    cursor.execute(_ENTRY_SQL, [entry[0]])
    return cursor.fetchone()


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
    Skip.objects.filter(project_id=batch.project_id, data_row_id__in=rows).delete()
    removed, _ = removable.delete()
    held = unlabelled.count()
    Batch.objects.filter(pk=batch.pk).update(size=F("size") - removed, updated_at=timezone.now())
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


def _delete_labels_of(
    *, batch: Batch, entries: Iterable[int] | None, set_labels_as_template: bool
) -> tuple[int, int]:
    """Delete the labels of the batch's rows (all, or the entries given) and re-queue those
    rows; returns (labels deleted, rows re-queued). Safe to run again."""
    scope = QueueEntry.objects.filter(batch=batch, labels_count__gt=0)
    if entries is not None:
        scope = scope.filter(pk__in=list(entries))
    rows = scope.values("data_row_id")
    labels = Label.objects.filter(project_id=batch.project_id, data_row_id__in=rows)
    if set_labels_as_template:
        latest = (
            Label.objects.filter(project_id=batch.project_id, data_row_id=OuterRef("data_row_id"))
            .order_by("-id")
            .values("annotation")[:1]
        )
        scope.update(template=Subquery(latest))
    Skip.objects.filter(project_id=batch.project_id, data_row_id__in=rows).delete()
    deleted, _ = labels.delete()
    requeued = scope.update(
        labels_count=0, state=QueueEntry.State.QUEUED, reserved_by=None, reserved_until=None
    )
    return deleted, requeued


def batch_delete_labels(
    *, batch: Batch, set_labels_as_template: bool = False, user=None, force_job: bool = False
) -> dict | Job:
    """Delete every label of the batch and re-queue its rows (with templates, the deleted
    labels pre-fill the rows when served again). Small batches are done at once and answer
    `{"labels_deleted", "rows_requeued"}`; large ones (or `force_job`) start a job."""
    if not isinstance(set_labels_as_template, bool):
        raise Invalid("Must be true or false.", field="set_labels_as_template")
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
        deleted, requeued = _delete_labels_of(
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
    Skip.objects.filter(project_id=batch.project_id, data_row_id__in=rows).delete()
    QueueEntry.objects.filter(batch=batch).delete()
    batch.delete()


def export_start(*, project: Project, user=None, batch_ids: Any = None, **switches: Any) -> Job:
    """Start an `export_batches` job producing the NDJSON file of the batches' rows."""
    options = export_options(project=project, batch_ids=batch_ids, **switches)
    with transaction.atomic():
        return job_create(
            kind="export_batches",
            params=options.as_params(),
            user=user,
            total=export_count(options),
        )


# --- Publishing labels into a dataset version --------------------------------------------------


def labels_publish_start(
    *, project: Project, dataset_id: Any = None, version_name: Any = None, user=None
) -> Job:
    """Start a `publish_labels` job: a new draft version of the dataset (child of its newest
    published version) whose frames carry the labels of the project's done rows as `rois`."""
    from versions.services import version_create

    if not isinstance(dataset_id, str) or not dataset_id:
        raise Invalid("This field is required.", field="dataset_id")
    dataset = Dataset.objects.filter(pk=dataset_id).first()
    if dataset is None:
        raise NotFound(f"No dataset with id {dataset_id!r}.", field="dataset_id")
    name = _name_clean(version_name, field="version_name")
    parent = (
        DatasetVersion.objects.filter(dataset=dataset, status="published", removed=False)
        .order_by("-published_at", "-id")
        .first()
    )
    if parent is None:
        raise Conflict(
            "The dataset has no published version to build on: publish one first.",
            field="dataset_id",
        )
    total = (
        labels_to_publish(project=project, dataset_id=dataset.pk)
        .values("data_row_id")
        .distinct()
        .count()
    )
    with transaction.atomic():
        version, _ = version_create(
            dataset=dataset,
            name=name,
            parent=parent,
            description=f"Labels of project {project.name!r}",
            raise_if_exists=True,
            user=user,
        )
        return job_create(
            kind="publish_labels",
            params={"project_id": project.pk, "dataset_id": dataset.pk, "version_id": version.pk},
            user=user,
            total=total,
        )


def label_rois(annotations: list[dict]) -> list[dict]:
    """A row's labels as frame ROIs: `objects` [{class, bbox|poly, confidence}] become one ROI
    each; `classes` [..] one ROI without geometry."""
    rois = []
    for annotation in annotations:
        for obj in annotation.get("objects") or []:
            if isinstance(obj, dict) and obj.get("class"):
                roi = {"label": [str(obj["class"])], "confidence": obj.get("confidence", 1.0)}
                for shape in ("bbox", "poly"):
                    if shape in obj:
                        roi[shape] = obj[shape]
                rois.append(roi)
        classes = annotation.get("classes")
        if isinstance(classes, list) and classes:
            rois.append({"label": [str(c) for c in classes], "confidence": 1.0})
    return rois
