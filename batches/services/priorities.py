"""Writes on the serving order: reorder batches (priorities 1, 2, …), move one up or down
(keeping the user's numbers where it can), and row priority overrides in bulk (at once up to
10,000 rows, else a `set_priorities` job)."""

from __future__ import annotations

from django.db import connection, transaction

from dashboard.errors import NotFound
from dashboard.models import Job
from versions.models import DataRow

from ..events import project_event
from ..models import NO_PRIORITY_SORT, Batch, Project, QueueEntry, batch_sort_value
from ..selectors import batch_order_key
from .rows import failed_row, failed_without_index, job_create_with_rows

MAX_PRIORITY_ROWS = 1_000_000
# Row overrides above this size run as a job (the API answers 202).
PRIORITIES_SYNC_LIMIT = 10_000


def batch_rows_reprioritise(batch_id: str, priority: int | None) -> int:
    """One set-based UPDATE: the batch's rows without an override take its priority (rows
    re-queued for rework stay first)."""
    return QueueEntry.objects.filter(
        batch_id=batch_id, priority_override__isnull=True, rework_label__isnull=True
    ).update(sort_priority=batch_sort_value(priority))


@transaction.atomic
def batches_reorder(*, project: Project, batch_ids: list[str]) -> list[Batch]:
    """Serve the listed batches first, in the given order, the rest after them in their old
    order: priorities 1, 2, … are assigned; only batches whose priority changes are written."""
    # FOR NO KEY UPDATE: see `batch_update` (a concurrent submit must not deadlock with us).
    locked = Batch.objects.select_for_update(no_key=True).filter(project=project)
    batches = {b.pk: b for b in locked}
    unknown = [b for b in batch_ids if b not in batches]
    if unknown:
        raise NotFound(f"Not batches of this project: {', '.join(unknown[:5])}.", field="batch_ids")
    listed = [batches[b] for b in batch_ids]
    rest = sorted((b for b in batches.values() if b.pk not in set(batch_ids)), key=batch_order_key)
    ordered = listed + rest
    changed = []
    for position, batch in enumerate(ordered, start=1):
        if batch.priority != position:
            batch.priority = position
            batch.save(update_fields=["priority", "updated_at"])
            batch_rows_reprioritise(batch.pk, position)
            changed.append(batch.pk)
    if changed:
        project_event(
            "priorities.changed", project, batches=changed[:1000], batches_changed=len(changed)
        )
    return ordered


def _serving_order(batches, priorities: dict[str, int | None]) -> list[str]:
    """Batch ids in serving order were each batch to have `priorities[id]`."""
    return [
        b.pk
        for b in sorted(
            batches,
            key=lambda b: (batch_sort_value(priorities[b.pk]), b.created_at, b.pk),
        )
    ]


@transaction.atomic
def batch_move(*, batch: Batch, direction: str) -> list[tuple[Batch, int | None, int | None]]:
    """Move a batch one place up or down in the serving order (the pages' reorder buttons),
    keeping the user's priority numbers where it can: the batch and its neighbour swap
    numbers, or one takes the other's (ties are served oldest first); only when neither
    gives exactly the new order are the project's batches renumbered 1, 2, … Returns the
    changes `[(batch, old priority, new priority)]` (none at either end of the order)."""
    locked = list(Batch.objects.select_for_update(no_key=True).filter(project_id=batch.project_id))
    order = [b.pk for b in sorted(locked, key=batch_order_key)]
    by_id = {b.pk: b for b in locked}
    i = order.index(batch.pk)
    j = i - 1 if direction == "up" else i + 1
    if not 0 <= j < len(order):
        return []
    wanted = order.copy()
    wanted[i], wanted[j] = wanted[j], wanted[i]
    mover, neighbour = by_id[order[i]], by_id[order[j]]
    now = {b.pk: b.priority for b in locked}
    candidates = [
        {mover.pk: neighbour.priority, neighbour.pk: mover.priority},  # swap the numbers
        {mover.pk: neighbour.priority},  # take the neighbour's number (a tie, oldest first)
        {neighbour.pk: mover.priority},
    ]
    for candidate in candidates:
        trial = {**now, **candidate}
        if trial != now and _serving_order(locked, trial) == wanted:
            new = trial
            break
    else:  # the numbers cannot express the new order: 1, 2, … in the new order
        new = {pk: position for position, pk in enumerate(wanted, start=1)}
    changes = []
    for pk in wanted:
        if new[pk] != now[pk]:
            moved = by_id[pk]
            moved.priority = new[pk]
            moved.save(update_fields=["priority", "updated_at"])
            batch_rows_reprioritise(pk, new[pk])
            changes.append((moved, now[pk], new[pk]))
    if changes:
        project_event(
            "priorities.changed",
            batch.project,
            batches=[moved.pk for moved, _, _ in changes],
            batches_changed=len(changes),
        )
    return changes


def priorities_apply(
    *, project: Project, items: list[tuple[str, str, int | None]], offset: int = 0
) -> tuple[int, list[dict]]:
    """Write the row overrides of one chunk of validated (column, value, priority) items (the
    chunk of `priorities_set` and of the `set_priorities` job); returns (updated, failed rows
    with their input index counted from `offset`)."""
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
                failed_row(index=offset + i, data_row=None, global_key=gk, reason="unknown")
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
            failed_row(
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
    # One event per call (a job's chunk of 10,000 rows: its own transaction).
    project_event("priorities.changed", project, rows=len(wanted))
    return len(wanted), failed


def priorities_set(*, project: Project, items: list[dict], user=None) -> dict | Job:
    """Row priority overrides in bulk: `[{data_row | global_key, priority}]` as the door
    checked them (`null` removes one). Up to 10,000 rows answer at once `{"updated",
    "failed"}`; more (≤ 1,000,000) start a `set_priorities` job."""
    items = [
        ("id", item["data_row"], item["priority"])
        if "data_row" in item
        else ("global_key", item["global_key"], item["priority"])
        for item in items
    ]
    if len(items) > PRIORITIES_SYNC_LIMIT:
        with transaction.atomic():
            return job_create_with_rows(
                kind="set_priorities",
                params={"project_id": project.pk, "rows": len(items)},
                rows=[list(item) for item in items],
                user=user,
                total=len(items),
            )
    with transaction.atomic():
        updated, failed = priorities_apply(project=project, items=items)
    return {"updated": updated, "failed": failed_without_index(failed)}
