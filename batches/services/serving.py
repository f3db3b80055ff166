"""The serving statements of the queue (next, submit, skip): SQL written once, prepared on
PostgreSQL, and the helpers that run them and load their answers without another query."""

from __future__ import annotations

import functools
import json
import re
import weakref
from contextlib import nullcontext
from datetime import datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from dashboard.models import Event
from versions.models import DataRow

from ..models import Batch, Label, Project, QueueEntry, Skip
from .rollups import SKIP_COUNT, SKIP_COUNT_CTE

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
    "t.template, t.rework_label_id, d.global_key, d.row_data, b.name"
)
_ENTRY_JOINS = f"{DataRow._meta.db_table} AS d, {Batch._meta.db_table} AS b"
_ENTRY_JOINED = "d.id = t.data_row_id AND b.id = t.batch_id"
# The caller's reservation of the entry named in the request.
_HELD = (
    "id = %(entry)s AND project_id = %(project)s AND state = 'reserved' "
    "AND reserved_by_id = %(user)s"
)
# The SQL types of the serving statements' parameters.
_PARAM_TYPES = {
    "entry": "bigint",
    "project": "varchar",
    "user": "bigint",  # integer or bigint user ids alike
    "now": "timestamptz",
    "until": "timestamptz",
    "annotation": "jsonb",
    "status": "varchar",
    "event_id": "varchar",
    "event_type": "varchar",
    "actor_username": "varchar",
    "event_fanout": "boolean",
    "hour": "timestamptz",
    "day": "timestamptz",
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
          AND NOT q.gold
          AND NOT EXISTS (SELECT 1 FROM {_LABEL} AS l WHERE l.project_id = q.project_id
                          AND l.data_row_id = q.data_row_id AND l.author_id = %(user)s
                          AND NOT (l.status = 'rejected'){probe})
          AND NOT EXISTS (SELECT 1 FROM {_SKIP} AS s WHERE s.project_id = q.project_id
                          AND s.data_row_id = q.data_row_id AND s.user_id = %(user)s{probe})
        ORDER BY q.sort_priority, q.id
        LIMIT 1{" FOR UPDATE OF q SKIP LOCKED" if postgres else ""}
    """


@functools.cache
def next_sql(*, postgres: bool) -> str:
    """Reserve one row: the caller's own reservation if they still hold it (expired or not:
    nobody took it), else the first row they may take. PostgreSQL returns the answer joined."""
    return f"""
        UPDATE {_QUEUE} AS t
        SET state = 'reserved', reserved_by_id = %(user)s, reserved_until = %(until)s,
            reserved_at = CASE WHEN t.state = 'reserved' AND t.reserved_by_id = %(user)s
                               THEN COALESCE(t.reserved_at, %(now)s) ELSE %(now)s END
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
def _count_label_sql(*, held: bool, first: bool = False) -> str:
    """One more label on the entry, which leaves any reservation: done once it has them all.
    (The check constraint `queueentry_labels_within_required` refuses one too many.) A row
    re-queued for rework has its label: its template and rework note go. `reserved_at` stays,
    for the label's `seconds`. With `first`, only the row's first counted label (a row with
    nothing to agree with: its agreement stays null, no transaction needed)."""
    where = _HELD if held else "id = %(entry)s AND project_id = %(project)s"
    if first:
        where += " AND labels_count = 0"
    return f"""
        UPDATE {_QUEUE}
        SET labels_count = labels_count + 1,
            state = CASE WHEN labels_count + 1 >= labels_required THEN 'done' ELSE 'queued' END,
            template = CASE WHEN labels_count + 1 >= labels_required
                              OR rework_label_id IS NOT NULL THEN NULL ELSE template END,
            rework_label_id = NULL,
            reserved_by_id = NULL, reserved_until = NULL
        WHERE {where}
        RETURNING batch_id, data_row_id, reserved_at, escalated, id, state
    """


# A label's status: every label of an escalated row awaits review, else the caller's choice
# (the project's review share, `review_chosen`).
_STATUS = "CASE WHEN {escalated} THEN 'pending_review' ELSE %(status)s END"
_INSERT_LABEL = (
    f"INSERT INTO {_LABEL} (project_id, batch_id, data_row_id, author_id, annotation, "
    "created_at, status, seconds) SELECT %(project)s, {batch}, {data_row}, %(user)s, "
    "%(annotation)s, %(now)s, {status}, {seconds}"
)


def _insert_label_from_entry(*, held: bool) -> str:
    """The label INSERT of the entry `e` counted in the same statement (PostgreSQL). `seconds`:
    from the moment the row was served to its holder (a held row only)."""
    return _INSERT_LABEL.format(
        batch="e.batch_id",
        data_row="e.data_row_id",
        status=_STATUS.format(escalated="e.escalated"),
        seconds="EXTRACT(EPOCH FROM (%(now)s - e.reserved_at))" if held else "NULL",
    )


@functools.cache
def _label_statement(*, held: bool) -> _Prepared:
    """PostgreSQL: count a later label of a row on its entry and insert it, in one statement
    (a row's first label: `_label_event_statement`). `seconds`: from the moment the row was
    served to its holder (a held row only)."""
    insert = _insert_label_from_entry(held=held)
    return _Prepared(
        f"labelops_label_{'held' if held else 'any'}",
        f"WITH e AS ({_count_label_sql(held=held)}) {insert} FROM e "
        "RETURNING id, batch_id, data_row_id, status, seconds",
    )


_EVENT = Event._meta.db_table


@functools.cache
def _label_event_statement(*, held: bool) -> _Prepared:
    """PostgreSQL: the row's first counted label (as `_label_statement`), its `label.submitted`
    event (`dashboard.events.event_columns`, data `{label, batch, data_row}`) and the look for
    `batch.completed` — whether this row or another of its batch (not a gold row) is still
    queued — in one statement: a submit is BEGIN, this, COMMIT (the lock-and-look of
    `batch_completed_check` only when nothing is left queued)."""
    insert = _insert_label_from_entry(held=held)
    return _Prepared(
        f"labelops_label_event_{'held' if held else 'any'}",
        f"""
        WITH e AS ({_count_label_sql(held=held, first=True)}),
        l AS ({insert} FROM e RETURNING id, batch_id, data_row_id, status, seconds),
        v AS (
            INSERT INTO {_EVENT} (id, type, at, actor_user_id, actor_username, project, dataset,
                                  fanout, object_type, object_id, data)
            SELECT %(event_id)s, %(event_type)s, %(now)s, %(user)s, %(actor_username)s,
                   %(project)s, '', %(event_fanout)s, 'label', l.id::text,
                   jsonb_build_object('label', l.id, 'batch', l.batch_id,
                                      'data_row', l.data_row_id)
            FROM l
        )
        SELECT l.id, l.batch_id, l.data_row_id, l.status, l.seconds,
               e.state <> 'done' OR EXISTS (
                   SELECT 1 FROM {_QUEUE} AS q WHERE q.batch_id = e.batch_id
                   AND q.state = 'queued' AND NOT q.gold AND q.id <> e.id)
        FROM l, e
        """,
    )


def label_event_insert(cursor, params: dict, *, held: bool, event: dict) -> tuple | None:
    """PostgreSQL, a row's first counted label: (label id, batch id, data row id, status,
    seconds, whether rows of the batch are still queued), or None (not a row's first label, or
    no such entry). `event`: the `event_columns` of its `label.submitted`."""
    values = {
        "event_id": event["id"],
        "event_type": event["type"],
        "actor_username": event["actor_username"],
        "event_fanout": event["fanout"],
    }
    return _label_event_statement(held=held).fetchone(cursor, {**params, **values})


_NEXT_POSTGRES = _Prepared("labelops_queue_next", next_sql(postgres=True))
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
        RETURNING project_id
    ), counted AS (
        {SKIP_COUNT_CTE}
    )
    SELECT {_ENTRY_COLUMNS} FROM t, {_ENTRY_JOINS} WHERE {_ENTRY_JOINED}
    """,
)


def serving_db():
    """The database connection, looked up once per call (each `connection.x` is a lookup in
    thread-local storage, and those added up to a tenth of the Python time of next+submit)."""
    return connections[DEFAULT_DB_ALIAS]


def serving_transaction(db):
    """On PostgreSQL each verb is one statement, atomic by itself; inside a caller's transaction
    a savepoint keeps that transaction usable if it fails. SQLite runs a verb's statements in
    one transaction."""
    if db.vendor == "postgresql" and not db.in_atomic_block:
        return nullcontext()
    return transaction.atomic(using=db.alias)


def db_time(db, value):
    """A datetime as the ORM stores it (SQLite keeps naive UTC text)."""
    return db.ops.adapt_datetimefield_value(value)


def loaded(db, model, **values):
    """A `model` instance as the ORM loads a partial row: other fields are read on first use."""
    fields = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(db.alias, fields, [values[name] for name in fields])


def served_entry(db, row, *, project: Project, state: str, user, until) -> QueueEntry:
    """The QueueEntry of an `_ENTRY_COLUMNS` row, with its data row and batch."""
    entry_id, batch_id, row_id, sort, required, count, template, rework, key, row_data, name = row
    if isinstance(template, str):
        template = json.loads(template)
    entry = loaded(
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
        rework_label_id=rework,
    )
    entry.project, entry.reserved_by = project, user
    entry.data_row = loaded(db, DataRow, id=row_id, global_key=key, row_data=row_data)
    entry.batch = loaded(db, Batch, id=batch_id, project_id=project.pk, name=name)
    return entry


def reserve(db, *, project: Project, user) -> QueueEntry | None:
    now = timezone.now()
    until = now + timedelta(seconds=project.reservation_seconds)
    params = {"project": project.pk, "user": user.pk, "now": db_time(db, now)}
    params["until"] = db_time(db, until)
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            row = _NEXT_POSTGRES.fetchone(cursor, params)
        else:  # SQLite's RETURNING cannot read joined tables
            cursor.execute(next_sql(postgres=False), params)
            row = cursor.fetchone()
            if row is not None:
                cursor.execute(_ENTRY_SQL, [row[0]])
                row = cursor.fetchone()
    if row is None:
        return None
    return served_entry(
        db, row, project=project, state=QueueEntry.State.RESERVED, user=user, until=until
    )


def label_insert(cursor, params: dict, *, held: bool, status=None) -> tuple | None:
    """(label id, batch id, data row id, status, seconds) of the new label, or None: no such
    entry (held). `params["status"]` is the status of a row not escalated; SQLite may give
    `status(data_row_id)` instead (PostgreSQL callers decide before: one statement)."""
    if cursor.db.vendor == "postgresql":
        return _label_statement(held=held).fetchone(cursor, params)
    cursor.execute(_count_label_sql(held=held), params)
    entry = cursor.fetchone()
    if entry is None:
        return None
    batch_id, row_id, reserved_at, escalated = entry[:4]
    label_status = "pending_review" if escalated else params["status"]
    if status is not None and not escalated:
        label_status = status(row_id)
    seconds = None
    if held and reserved_at is not None:
        served, now = (
            datetime.fromisoformat(v) if isinstance(v, str) else v
            for v in (reserved_at, params["now"])
        )
        seconds = max((now - served).total_seconds(), 0.0)
    insert = _INSERT_LABEL.format(
        batch="%(batch)s", data_row="%(data_row)s", status="%(status)s", seconds="%(seconds)s"
    )
    values = {"batch": batch_id, "data_row": row_id, "status": label_status, "seconds": seconds}
    cursor.execute(f"{insert} RETURNING id", {**params, **values})
    return cursor.fetchone()[0], batch_id, row_id, label_status, seconds


def skip_release(cursor, params: dict) -> tuple | None:
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
    if cursor.rowcount:  # the labeler's skips in the rollups (the skip's transaction)
        cursor.execute(SKIP_COUNT, params)
    cursor.execute(_ENTRY_SQL, [entry[0]])
    return cursor.fetchone()
