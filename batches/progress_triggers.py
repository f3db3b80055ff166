"""Batch progress kept by the database: triggers on labels, queue entries and batches keep
`BatchProgress` (and `QueueEntry.pending_labels`) current on every write, whatever path makes
it (the serving statements, services, jobs, the admin, cascades from a deleted data row).

Counted, per batch: labels by status; rows `done` (state done, not gold), `done_gold`, and
`in_review` (done, not gold, with labels awaiting review). A batch's progress is then a sum
over at most `PROGRESS_SHARDS` rows (`batch_progress_counts`).

PostgreSQL: each connection writes its own shard of a batch's counters (`pg_backend_pid()`),
so concurrent labelers of one batch do not queue on one counter row, and one transaction only
ever writes one shard per batch. Labels are counted once per statement (transition tables: a
bulk insert or delete is one upsert per batch, not one per label: updating one row many times
in a transaction costs more each time). Queue entries are counted per row, and only when a
count changes: the WHEN conditions let reservations and other updates fire nothing, so the
serving statements pay only on a submit. A label's `pending_review` change moves its queue
entry's `pending_labels`; every verb that changes labels of rows others may be labelling
locks those queue entries first (as a submit does), so counter rows are taken after them.
SQLite (one writer at a time) has the same triggers per row, in shard 0.
"""

PROGRESS_SHARDS = 16

_LABEL = "batches_label"
_QUEUE = "batches_queueentry"
_BATCH = "batches_batch"
_PROGRESS = "batches_batchprogress"
_COUNTS = ("submitted", "pending_review", "accepted", "rejected", "done", "done_gold", "in_review")
_SET = ", ".join(f"{c} = p.{c} + EXCLUDED.{c}" for c in _COUNTS)


def shard_rows(batch: str, source: str = "", where: str = "") -> str:
    """PostgreSQL: the INSERT of a batch's shard rows (counts 0), all made when the batch is
    (a trigger) and by a recount, so the counters are only ever updated in place: two
    transactions never insert one new key (which could deadlock)."""
    return (
        f"INSERT INTO {_PROGRESS} (batch_id, shard, {', '.join(_COUNTS)}) "
        f"SELECT {batch}, g, {', '.join('0' for _ in _COUNTS)} "
        f"FROM {source}generate_series(0, {PROGRESS_SHARDS - 1}) AS g{where} "
        "ON CONFLICT DO NOTHING"
    )


_ARGS = ("_sub", "_pend", "_acc", "_rej", "_done", "_gold", "_rev")  # labelops_progress_add's
_ADD = ", ".join(f"{c} = p.{c} + {a}" for c, a in zip(_COUNTS, _ARGS, strict=True))

# When a queue entry's counts may change (`done` state, gold flag, labels awaiting review).
_ENTRY_CHANGED = (
    "(OLD.state = 'done') <> (NEW.state = 'done') OR (NEW.state = 'done' AND "
    "(OLD.gold <> NEW.gold OR (OLD.pending_labels > 0) <> (NEW.pending_labels > 0) "
    "OR OLD.batch_id <> NEW.batch_id))"
)
_PENDING_CHANGED = "(OLD.status = 'pending_review') <> (NEW.status = 'pending_review')"

# A label's counts by status, as SQL over a row `r` (of a transition table).
_BY_STATUS = ", ".join(f"(COUNT(*) FILTER (WHERE r.status = '{c}'))::int" for c in _COUNTS[:4])

POSTGRES = [
    f"""
    CREATE OR REPLACE FUNCTION labelops_progress_add(
        _b varchar, _shard int, _sub int, _pend int, _acc int, _rej int, _done int, _gold int,
        _rev int
    ) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        IF _sub = 0 AND _pend = 0 AND _acc = 0 AND _rej = 0 AND _done = 0 AND _gold = 0
           AND _rev = 0 THEN
            RETURN;
        END IF;
        -- An existing shard row is updated in place. Only a shard's first write inserts: two
        -- transactions upserting one new key, one of them twice (a submit's queue entry and its
        -- label), could otherwise wait on each other's speculative insertion (a deadlock).
        UPDATE {_PROGRESS} AS p SET {_ADD} WHERE p.batch_id = _b AND p.shard = _shard;
        IF NOT FOUND THEN
            INSERT INTO {_PROGRESS} AS p (batch_id, shard, {", ".join(_COUNTS)})
            VALUES (_b, _shard, _sub, _pend, _acc, _rej, _done, _gold, _rev)
            ON CONFLICT ON CONSTRAINT batch_progress_shard_once DO UPDATE SET {_SET};
        END IF;
    END $$
    """,
    # Labels: inserted and deleted ones once per statement, the statement's rows counted by
    # batch (a bulk insert or delete is one upsert per batch, not one per label); a status
    # change per row, only when the status changes (not on a review reservation, an agreement
    # or a gold score).
    f"""
    CREATE OR REPLACE FUNCTION labelops_label_progress() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM labelops_progress_add(b, pg_backend_pid() % {PROGRESS_SHARDS},
                                          sub, pend, acc, rej, 0, 0, 0)
            FROM (SELECT r.batch_id, {_BY_STATUS} FROM new_rows AS r
                  GROUP BY r.batch_id ORDER BY r.batch_id) AS c(b, sub, pend, acc, rej);
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM labelops_progress_add(b, pg_backend_pid() % {PROGRESS_SHARDS},
                                          -sub, -pend, -acc, -rej, 0, 0, 0)
            FROM (SELECT r.batch_id, {_BY_STATUS} FROM old_rows AS r
                  GROUP BY r.batch_id ORDER BY r.batch_id) AS c(b, sub, pend, acc, rej);
        ELSE
            -- One label whose status changed (a WHEN condition): it moves between counts.
            PERFORM labelops_progress_add(
                v.b, pg_backend_pid() % {PROGRESS_SHARDS}, (v.st = 'submitted')::int * v.sign,
                (v.st = 'pending_review')::int * v.sign, (v.st = 'accepted')::int * v.sign,
                (v.st = 'rejected')::int * v.sign, 0, 0, 0)
            FROM (VALUES (OLD.batch_id, OLD.status, -1), (NEW.batch_id, NEW.status, 1))
                AS v(b, st, sign);
        END IF;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION labelops_label_pending() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' AND OLD.status = 'pending_review' THEN
            UPDATE {_QUEUE} SET pending_labels = pending_labels - 1
            WHERE project_id = OLD.project_id AND data_row_id = OLD.data_row_id;
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.status = 'pending_review' THEN
            UPDATE {_QUEUE} SET pending_labels = pending_labels + 1
            WHERE project_id = NEW.project_id AND data_row_id = NEW.data_row_id;
        END IF;
        RETURN NULL;
    END $$
    """,
    # Queue entries: per row, and only when a count changes (never on a reservation).
    f"""
    CREATE OR REPLACE FUNCTION labelops_entry_progress() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        r record;
    BEGIN
        IF current_setting('labelops.recount', true) = 'on' THEN
            RETURN NULL;  -- `batch_progress_recount` replaces the counts
        END IF;
        FOR r IN SELECT * FROM (VALUES (OLD.batch_id, OLD.state, OLD.gold, OLD.pending_labels, -1),
                                       (NEW.batch_id, NEW.state, NEW.gold, NEW.pending_labels, 1))
                 AS v(b, st, gold, pending, sign) WHERE v.b IS NOT NULL LOOP
            PERFORM labelops_progress_add(
                r.b, pg_backend_pid() % {PROGRESS_SHARDS}, 0, 0, 0, 0,
                (r.st = 'done' AND NOT r.gold)::int * r.sign,
                (r.st = 'done' AND r.gold)::int * r.sign,
                (r.st = 'done' AND NOT r.gold AND r.pending > 0)::int * r.sign);
        END LOOP;
        RETURN NULL;
    END $$
    """,
    # Deleted queue entries (a data row's deletion may take many): once per statement.
    f"""
    CREATE OR REPLACE FUNCTION labelops_entries_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM labelops_progress_add(b, pg_backend_pid() % {PROGRESS_SHARDS}, 0, 0, 0, 0,
                                      -done, -gold, -rev)
        FROM (SELECT r.batch_id,
                     (COUNT(*) FILTER (WHERE r.state = 'done' AND NOT r.gold))::int,
                     (COUNT(*) FILTER (WHERE r.state = 'done' AND r.gold))::int,
                     (COUNT(*) FILTER (WHERE r.state = 'done' AND NOT r.gold
                                       AND r.pending_labels > 0))::int
              FROM old_rows AS r GROUP BY r.batch_id ORDER BY r.batch_id) AS c(b, done, gold, rev);
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION labelops_batch_progress_drop() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM {_PROGRESS} WHERE batch_id = OLD.id;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION labelops_batch_progress_shards() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        {shard_rows("NEW.id")};
        RETURN NULL;
    END $$
    """,
    # Labels awaiting review, per queue entry.
    f"""CREATE TRIGGER labelops_label_pending_ins AFTER INSERT ON {_LABEL} FOR EACH ROW
        WHEN (NEW.status = 'pending_review') EXECUTE FUNCTION labelops_label_pending()""",
    f"""CREATE TRIGGER labelops_label_pending_upd AFTER UPDATE OF status ON {_LABEL}
        FOR EACH ROW WHEN ({_PENDING_CHANGED}) EXECUTE FUNCTION labelops_label_pending()""",
    f"""CREATE TRIGGER labelops_label_pending_del AFTER DELETE ON {_LABEL} FOR EACH ROW
        WHEN (OLD.status = 'pending_review') EXECUTE FUNCTION labelops_label_pending()""",
    # The counter rows.
    f"""CREATE TRIGGER labelops_label_progress_ins AFTER INSERT ON {_LABEL}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
        EXECUTE FUNCTION labelops_label_progress()""",
    f"""CREATE TRIGGER labelops_label_progress_upd AFTER UPDATE OF status, batch_id
        ON {_LABEL} FOR EACH ROW WHEN (OLD.status <> NEW.status OR OLD.batch_id <> NEW.batch_id)
        EXECUTE FUNCTION labelops_label_progress()""",
    f"""CREATE TRIGGER labelops_label_progress_del AFTER DELETE ON {_LABEL}
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
        EXECUTE FUNCTION labelops_label_progress()""",
    f"""CREATE TRIGGER labelops_entry_progress_ins AFTER INSERT ON {_QUEUE}
        FOR EACH ROW WHEN (NEW.state = 'done') EXECUTE FUNCTION labelops_entry_progress()""",
    f"""CREATE TRIGGER labelops_entry_progress_upd
        AFTER UPDATE OF state, gold, pending_labels, batch_id ON {_QUEUE}
        FOR EACH ROW WHEN ({_ENTRY_CHANGED}) EXECUTE FUNCTION labelops_entry_progress()""",
    f"""CREATE TRIGGER labelops_entry_progress_del AFTER DELETE ON {_QUEUE}
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
        EXECUTE FUNCTION labelops_entries_deleted()""",
    f"""CREATE TRIGGER labelops_batch_progress_drop AFTER DELETE ON {_BATCH} FOR EACH ROW
        EXECUTE FUNCTION labelops_batch_progress_drop()""",
    f"""CREATE TRIGGER labelops_batch_progress_shards AFTER INSERT ON {_BATCH} FOR EACH ROW
        EXECUTE FUNCTION labelops_batch_progress_shards()""",
]

POSTGRES_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS labelops_{name} ON {table}"
        for table, names in (
            (_LABEL, ["label_pending_ins", "label_pending_upd", "label_pending_del"]),
            (_LABEL, ["label_progress_ins", "label_progress_upd", "label_progress_del"]),
            (_QUEUE, ["entry_progress_ins", "entry_progress_upd", "entry_progress_del"]),
            (_BATCH, ["batch_progress_drop", "batch_progress_shards"]),
        )
        for name in names
    ),
    "DROP FUNCTION IF EXISTS labelops_label_progress()",
    "DROP FUNCTION IF EXISTS labelops_label_pending()",
    "DROP FUNCTION IF EXISTS labelops_entry_progress()",
    "DROP FUNCTION IF EXISTS labelops_entries_deleted()",
    "DROP FUNCTION IF EXISTS labelops_batch_progress_drop()",
    "DROP FUNCTION IF EXISTS labelops_batch_progress_shards()",
    "DROP FUNCTION IF EXISTS labelops_progress_add(varchar, int, int, int, int, int, int, int, "
    "int)",
]


def _sqlite_add(batch: str, values: dict[str, str]) -> str:
    """SQLite: add `values` (SQL expressions per count) to the batch's shard 0."""
    exprs = [values.get(c, "0") for c in _COUNTS]
    sets = ", ".join(f"{c} = {c} + excluded.{c}" for c in _COUNTS)
    return (
        f"INSERT INTO {_PROGRESS} (batch_id, shard, {', '.join(_COUNTS)}) "
        f"VALUES ({batch}, 0, {', '.join(exprs)}) ON CONFLICT (batch_id, shard) DO UPDATE SET "
        f"{sets};"
    )


def _label_counts(row: str, sign: str) -> dict[str, str]:
    return {s: f"{sign}({row}.status = '{s}')" for s in _COUNTS[:4]}


def _entry_counts(row: str, sign: str) -> dict[str, str]:
    done = f"{row}.state = 'done'"
    return {
        "done": f"{sign}({done} AND NOT {row}.gold)",
        "done_gold": f"{sign}({done} AND {row}.gold)",
        "in_review": f"{sign}({done} AND NOT {row}.gold AND {row}.pending_labels > 0)",
    }


def _sqlite_pending(row: str, delta: str) -> str:
    return (
        f"UPDATE {_QUEUE} SET pending_labels = pending_labels {delta} "
        f"WHERE {row}.status = 'pending_review' AND project_id = {row}.project_id "
        f"AND data_row_id = {row}.data_row_id;"
    )


SQLITE = [
    f"""CREATE TRIGGER labelops_label_progress_ins AFTER INSERT ON {_LABEL} BEGIN
        {_sqlite_add("NEW.batch_id", _label_counts("NEW", ""))}
        {_sqlite_pending("NEW", "+ 1")}
        END""",
    f"""CREATE TRIGGER labelops_label_progress_upd AFTER UPDATE OF status, batch_id ON {_LABEL}
        WHEN OLD.status <> NEW.status OR OLD.batch_id <> NEW.batch_id BEGIN
        {_sqlite_pending("OLD", "- 1")}
        {_sqlite_pending("NEW", "+ 1")}
        {_sqlite_add("OLD.batch_id", _label_counts("OLD", "-"))}
        {_sqlite_add("NEW.batch_id", _label_counts("NEW", ""))}
        END""",
    f"""CREATE TRIGGER labelops_label_progress_del AFTER DELETE ON {_LABEL} BEGIN
        {_sqlite_add("OLD.batch_id", _label_counts("OLD", "-"))}
        {_sqlite_pending("OLD", "- 1")}
        END""",
    f"""CREATE TRIGGER labelops_entry_progress_ins AFTER INSERT ON {_QUEUE}
        WHEN NEW.state = 'done' BEGIN
        {_sqlite_add("NEW.batch_id", _entry_counts("NEW", ""))}
        END""",
    f"""CREATE TRIGGER labelops_entry_progress_upd
        AFTER UPDATE OF state, gold, pending_labels, batch_id ON {_QUEUE}
        WHEN {_ENTRY_CHANGED} BEGIN
        {_sqlite_add("OLD.batch_id", _entry_counts("OLD", "-"))}
        {_sqlite_add("NEW.batch_id", _entry_counts("NEW", ""))}
        END""",
    f"""CREATE TRIGGER labelops_entry_progress_del AFTER DELETE ON {_QUEUE}
        WHEN OLD.state = 'done' BEGIN
        {_sqlite_add("OLD.batch_id", _entry_counts("OLD", "-"))}
        END""",
    f"""CREATE TRIGGER labelops_batch_progress_drop AFTER DELETE ON {_BATCH} BEGIN
        DELETE FROM {_PROGRESS} WHERE batch_id = OLD.id;
        END""",
]

SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS labelops_{name}"
    for name in (
        "label_progress_ins",
        "label_progress_upd",
        "label_progress_del",
        "entry_progress_ins",
        "entry_progress_upd",
        "entry_progress_del",
        "batch_progress_drop",
    )
]


def triggers_install(connection) -> None:
    """Create the progress triggers (a migration's step)."""
    statements = POSTGRES if connection.vendor == "postgresql" else SQLITE
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def triggers_remove(connection) -> None:
    statements = POSTGRES_DROP if connection.vendor == "postgresql" else SQLITE_DROP
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
