"""Batch progress counted again from the rows and labels: the backfill of the counters the
database triggers keep (`batches/progress_triggers.py`), for a database that had labels before
them, and a repair should a count ever drift. Plain SQL on the tables, so a migration can run it.
"""

from __future__ import annotations

from django.db import connection as default_connection
from django.db import transaction

from ..progress_triggers import shard_rows

_LABEL = "batches_label"
_QUEUE = "batches_queueentry"
_BATCH = "batches_batch"
_PROGRESS = "batches_batchprogress"


def _count(table: str, where: str) -> str:
    column = "l.batch_id" if table == _LABEL else "q.batch_id"
    alias = "l" if table == _LABEL else "q"
    return f"(SELECT COUNT(*) FROM {table} AS {alias} WHERE {column} = b.id AND {where})"


_COUNTS = {
    "submitted": _count(_LABEL, "l.status = 'submitted'"),
    "pending_review": _count(_LABEL, "l.status = 'pending_review'"),
    "accepted": _count(_LABEL, "l.status = 'accepted'"),
    "rejected": _count(_LABEL, "l.status = 'rejected'"),
    "done": _count(_QUEUE, "q.state = 'done' AND NOT q.gold"),
    "done_gold": _count(_QUEUE, "q.state = 'done' AND q.gold"),
    "in_review": _count(_QUEUE, "q.state = 'done' AND NOT q.gold AND q.pending_labels > 0"),
}


def batch_progress_recount(*, batch_id: str | None = None, connection=None) -> None:
    """Count the progress of one batch (or of every batch) again: each queue entry's labels
    awaiting review, then the batch's counter rows, replaced by one row of exact counts."""
    db = connection or default_connection
    scope, params = ("", []) if batch_id is None else (" AND batch_id = %s", [batch_id])
    postgres = db.vendor == "postgresql"
    with transaction.atomic(using=db.alias), db.cursor() as cursor:
        if postgres:
            # Writes wait until the counts are replaced (none is lost or counted twice), and
            # the entries' trigger counts nothing while their pending counts are rewritten
            # (the counter rows are replaced below anyway).
            cursor.execute(f"LOCK TABLE {_LABEL}, {_QUEUE} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute("SET LOCAL labelops.recount = 'on'")
        cursor.execute(
            f"UPDATE {_QUEUE} SET pending_labels = 0 WHERE pending_labels <> 0{scope}", params
        )
        cursor.execute(
            f"UPDATE {_QUEUE} SET pending_labels = c.n FROM (SELECT l.project_id, l.data_row_id, "
            f"COUNT(*) AS n FROM {_LABEL} AS l WHERE l.status = 'pending_review' "
            "GROUP BY l.project_id, l.data_row_id) AS c WHERE "
            f"{_QUEUE}.project_id = c.project_id AND {_QUEUE}.data_row_id = c.data_row_id{scope}",
            params,
        )
        if postgres:
            cursor.execute("SET LOCAL labelops.recount = 'off'")
        where = "" if batch_id is None else " WHERE b.id = %s"
        cursor.execute(f"DELETE FROM {_PROGRESS}{where.replace('b.id', 'batch_id')}", params)
        cursor.execute(
            f"INSERT INTO {_PROGRESS} (batch_id, shard, {', '.join(_COUNTS)}) "
            f"SELECT b.id, 0, {', '.join(_COUNTS.values())} FROM {_BATCH} AS b{where}",
            params,
        )
        if postgres:  # the other shards, as a new batch gets them
            cursor.execute(shard_rows("b.id", f"{_BATCH} AS b CROSS JOIN ", where), params)
