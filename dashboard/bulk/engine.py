"""The import job: read a spooled file once, in chunks; convert, let the record type's writer
write each chunk set-based, and keep the job's progress, counts, errors and checkpoint.

Safe to retry: each chunk's writes and its checkpoint (the next record index) commit in one
transaction, so a task handed out again after its worker died resumes after the last committed
chunk. Every record's key goes into a temp table as the chunks are read (a ledger): it finds keys
repeated inside the file (reported with both indices; the first one is used) and, for `sync`,
lists the keys to keep. A resumed task refills the ledger from the records before its checkpoint.
Atomic mode runs every chunk inside one outer transaction; if any record failed it rolls all of
it back and records every error. Its progress is written from a second connection, since its
own transaction commits only at the end (PostgreSQL: SQLite lets one connection write at a time,
so there an atomic import shows its progress when it ends).
"""

from __future__ import annotations

import gc
import io
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from dashboard.jobs.runner import PROGRESS_WRITE_INTERVAL, JobFailed, JobRun
from dashboard.models import Job

from . import staging
from .readers import RawRecord, count_records, read_records
from .records import (
    ImportOptions,
    Outcome,
    Record,
    RecordError,
    RecordType,
    RowError,
    convert_record,
)

DEFAULT_CHUNK_SIZE = 10_000
BIG_FILE_CHUNKS = 10  # a big file is written in about this many chunks…
MAX_CHUNK_SIZE = 50_000  # …of at most this many records
CHUNK_BYTES = 32 << 20  # a chunk also ends once its records' text reaches this size
KEY_BATCH = 20_000


def chunk_size(total: int | None = None) -> int:
    """Records per chunk: BULK_CHUNK_SIZE, or a tenth of a big file (at most 50,000). Each
    chunk's writes sweep the tables' indexes of random ids once, so fewer, larger chunks cost
    less once those no longer fit in memory (at 300,000 rows 50,000-record chunks import over
    twice as fast as 10,000-record ones)."""
    size = int(getattr(settings, "BULK_CHUNK_SIZE", DEFAULT_CHUNK_SIZE))
    return max(size, min(MAX_CHUNK_SIZE, (total or 0) // BIG_FILE_CHUNKS))


class _Rollback(Exception):
    """Unwinds the outer transaction of an atomic import that met errors."""


class _KeyLedger:
    """The keys read so far (temp table `key`, `idx`: each key once, at its first index)."""

    def __init__(self, table: str):
        self.table = table
        staging.temp_table(table, [("key", "text"), ("idx", "int")], index="key")

    def register(self, pairs: list[tuple[str, int]]) -> dict[int, tuple[str, int]]:
        """Add (key, index) pairs in file order; returns {later index: (key, first index)}
        for every key seen before (earlier in this batch or in the ledger)."""
        first: dict[str, int] = {}
        for key, idx in pairs:
            first.setdefault(key, idx)
        earlier = dict(
            staging.select_in(f"SELECT key, idx FROM {self.table} WHERE key {{in}}", list(first))
        )
        repeated = {}
        for key, idx in pairs:
            used = earlier.get(key, first[key])
            if used != idx:
                repeated[idx] = (key, used)
        staging.load(
            self.table, ["key", "idx"], [(k, i) for k, i in first.items() if k not in earlier]
        )
        return repeated


class _Converted:
    """One record of a chunk, converted (or not) and keyed; no database access."""

    __slots__ = ("raw", "values", "key", "error")

    def __init__(self, raw: RawRecord, values: dict | None, key: str | None, error):
        self.raw = raw
        self.values = values
        self.key = key
        self.error = error  # RecordError of the conversion, or None


def _error_key(raw: Any, options: ImportOptions) -> str:
    if isinstance(raw, dict):
        value = raw.get(options.key)
        if value not in (None, ""):
            return str(value)
    return ""


class _ProgressOutside:
    """Progress of an atomic import, written from a second connection (PostgreSQL only: the
    import's own transaction commits at the end, and SQLite has one writer at a time)."""

    def __init__(self, job_id: str):
        self.job_id = job_id
        self.conn = None
        self.last = time.monotonic()

    def report(self, done: int) -> None:
        now = time.monotonic()
        if not staging.is_postgresql() or now - self.last < PROGRESS_WRITE_INTERVAL:
            return
        self.last = now
        if self.conn is None:
            self.conn = connections.create_connection(DEFAULT_DB_ALIAS)
        with self.conn.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Job._meta.db_table} SET progress_done = %s, updated_at = %s"
                " WHERE id = %s",
                [done, timezone.now(), self.job_id],
            )

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class _Import:
    """One run of an import job over its file."""

    def __init__(self, run: JobRun, record_type: RecordType, options: ImportOptions, table: str):
        self.run = run
        self.record_type = record_type
        self.options = options
        self.writer = record_type.writer(run.params)
        self.table = table
        self.atomic = options.on_error == "atomic"
        self.ledger: _KeyLedger | None = None
        self.total = 0
        self.fatal = False

    # -- reading

    def key_of(self, values: dict[str, Any] | None) -> str | None:
        return self.writer.key_of(values, self.options.key) if values is not None else None

    def key_only(self, raw: RawRecord) -> str | None:
        """The key of a record whose other fields may be bad (the key fields alone)."""
        if raw.error or not isinstance(raw.data, dict):
            return None
        subset = {k: raw.data[k] for k in self.record_type.key_fields if k in raw.data}
        try:
            values = convert_record(
                self.record_type, subset, from_text=raw.from_text, unknown=self.options.unknown
            )
        except RecordError:
            return None
        return self.key_of(values)

    def convert(self, raw: RawRecord) -> _Converted:
        if raw.error:
            return _Converted(raw, None, None, None)
        try:
            values = convert_record(
                self.record_type, raw.data, from_text=raw.from_text, unknown=self.options.unknown
            )
        except RecordError as exc:
            return _Converted(raw, None, self.key_only(raw), exc)
        return _Converted(raw, values, self.key_of(values), None)

    def seen(self, raw: RawRecord) -> RawRecord:
        self.total = raw.index + 1
        self.fatal = self.fatal or raw.fatal
        return raw

    def chunks(self, records: Iterable[RawRecord], start: int) -> Iterator[list[RawRecord]]:
        """The records from `start` in chunks; those before it only refill the ledger."""
        size = chunk_size(self.run.job.progress_total)
        prefix: list[tuple[str, int]] = []
        chunk: list[RawRecord] = []
        chunk_bytes = 0  # records up to BULK_MAX_RECORD_BYTES each: bound the chunk's memory
        for raw in map(self.seen, records):
            if raw.index < start:
                key = self.key_only(raw)
                if key is not None:
                    prefix.append((key, raw.index))
                if len(prefix) >= KEY_BATCH:
                    self.ledger.register(prefix)
                    prefix = []
                continue
            if prefix:
                self.ledger.register(prefix)
                prefix = []
            chunk.append(raw)
            chunk_bytes += raw.size
            if len(chunk) >= size or chunk_bytes >= CHUNK_BYTES:
                yield chunk
                chunk, chunk_bytes = [], 0
        if prefix:
            self.ledger.register(prefix)
        if chunk:
            yield chunk

    # -- writing

    def write(self, converted: list[_Converted]) -> tuple[Outcome, list[RowError]]:
        """Check keys against the ledger, write: (outcome, the engine's row errors)."""
        repeated = self.ledger.register(
            [(c.key, c.raw.index) for c in converted if c.key is not None]
        )
        batch: list[Record] = []
        errors: list[RowError] = []
        for item in converted:
            raw = item.raw
            if raw.error:
                errors.append(self.row_error(raw, raw.error, "parse"))
            elif raw.index in repeated:
                key, first = repeated[raw.index]
                errors.append(
                    RowError(
                        raw.index,
                        f"Duplicate {self.options.key} {key!r}: records {first} and {raw.index} "
                        f"have it; record {first} is used.",
                        key=key,
                        input=raw.data,
                        error_type="duplicate",
                    )
                )
            elif item.error is not None:
                errors.append(self.row_error(raw, item.error.message, item.error.error_type))
            else:
                batch.append(Record(raw.index, item.values, raw.data))
        outcome = (
            self.writer.write(batch, mode=self.options.mode, key=self.options.key)
            if batch
            else Outcome()
        )
        return outcome, errors

    def row_error(self, raw: RawRecord, message: str, error_type: str) -> RowError:
        return RowError(
            raw.index,
            message,
            key=_error_key(raw.data, self.options),
            input=raw.data,
            error_type=error_type,
        )

    def run_chunks(self, records: Iterable[RawRecord], start: int) -> None:
        """Continue mode: every chunk commits with its counts, errors and checkpoint."""
        for chunk in self.chunks(records, start):
            converted = [self.convert(raw) for raw in chunk]  # before the write lock
            with self.run.chunk() as booking:
                outcome, errors = self.write(converted)
                book_outcome(booking, outcome, errors)
                booking.done = len(chunk)
                booking.checkpoint = {"phase": "write", "next": chunk[-1].index + 1}
        if self.options.mode == "sync" and not self.fatal:
            with self.run.chunk() as booking:
                book_outcome(booking, self.delete_missing())
                booking.checkpoint = {"phase": "write", "next": self.total}

    def run_atomic(self, records: Iterable[RawRecord]) -> list[RowError]:
        """Atomic mode: all chunks in one transaction, committed only without errors (then
        with the counts and the `done` checkpoint); returns the errors."""
        counts = Outcome()
        held: list[RowError] = []
        done = 0
        progress = _ProgressOutside(self.run.job.pk)
        self.run.job.progress_done = 0  # a retried atomic import starts over
        try:
            with transaction.atomic():
                for chunk in self.chunks(records, 0):
                    self.run.check_cancelled()
                    outcome, errors = self.write([self.convert(raw) for raw in chunk])
                    held += [*errors, *outcome.errors]
                    _add_counts(counts, outcome)
                    done += len(chunk)
                    progress.report(done)
                if self.options.mode == "sync" and not held:
                    outcome = self.delete_missing()
                    held += outcome.errors
                    _add_counts(counts, outcome)
                if held:
                    raise _Rollback
                self.set_total()
                with self.run.chunk() as booking:
                    book_outcome(booking, counts)
                    booking.done = done
                    booking.checkpoint = {"phase": "done"}
        except _Rollback:
            pass
        finally:
            progress.close()
        return held

    def delete_missing(self) -> Outcome:
        staging.analyze(self.table)
        return self.writer.delete_missing(self.table, key=self.options.key)

    def set_total(self) -> None:
        if self.run.job.progress_total != self.total:
            self.run.set_total(self.total)

    # -- the job

    def execute(self, path: str) -> dict:
        self.ledger = _KeyLedger(self.table)
        if self.run.job.progress_total is None:
            with default_storage.open(path, "rb") as handle:
                estimate = count_records(_unwrapped(handle), self.options.format)
            if estimate is not None:
                self.run.set_total(estimate)
        with default_storage.open(path, "rb") as handle:
            records = read_records(_unwrapped(handle), self.options.format)
            if self.atomic:
                held = self.run_atomic(records)
                if held:
                    _record_failure(self.run, held, self.total)
            else:
                self.run_chunks(records, self.run.checkpoint.get("next", 0))
        self.set_total()
        if self.options.mode == "sync" and self.fatal:
            _finish(self.run)
            raise JobFailed(
                "The file could not be read to the end, so sync deleted nothing; the rows read "
                "before the error were written. Fix the file and run the sync again."
            )
        if not self.atomic:
            _finish(self.run)
        default_storage.delete(path)
        return {"counts": self.run.job.counts}


def _unwrapped(handle):
    """The storage's own file object when it is a plain binary file: Django's `File` splits
    lines in Python, the file object in C."""
    inner = getattr(handle, "file", None)
    return inner if isinstance(inner, io.BufferedIOBase) else handle


def _add_counts(total: Outcome, outcome: Outcome) -> None:
    for name, n in outcome.counts.items():
        total.count(name, n)


def book_outcome(booking, outcome: Outcome, errors: Iterable[RowError] = ()) -> None:
    """Record a chunk's counts and row errors (the engine's, then the writer's) on its job."""
    for name, n in outcome.counts.items():
        booking.count(name, n)
    for error in [*errors, *outcome.errors]:
        booking.error(
            index=error.index,
            key=error.key,
            input=error.input,
            message=error.message,
            error_type=error.error_type,
        )


def _finish(run: JobRun) -> None:
    with run.chunk() as booking:
        booking.checkpoint = {"phase": "done"}


@contextmanager
def _objects_frozen() -> Iterator[None]:
    """The objects alive before the import left out of garbage collection while it runs: a
    full collection would otherwise walk them all again and again (a fifth of the run time)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _table_name(job_id: str) -> str:
    return "bulk_keys_" + re.sub(r"[^a-z0-9]", "", job_id.lower())


def run_import(run: JobRun, *, record_type: RecordType, options: ImportOptions, path: str) -> dict:
    """The body of an import job kind: `params` carry the spooled file's storage path."""
    if run.checkpoint.get("phase") == "done":
        # A retry after the last chunk committed: only the spool file may be left to remove.
        if default_storage.exists(path):
            default_storage.delete(path)
        return {"counts": run.job.counts}
    table = _table_name(run.job.pk)
    try:
        with _objects_frozen():
            return _Import(run, record_type, options, table).execute(path)
    except JobFailed:
        if default_storage.exists(path):
            default_storage.delete(path)
        raise
    finally:
        staging.temp_table_drop(table)


def _record_failure(run: JobRun, errors: list[RowError], total: int) -> None:
    """Atomic import with errors: everything was rolled back; record the errors and fail."""
    run.job.refresh_from_db()
    run.job.progress_done = 0
    with run.chunk() as booking:
        book_outcome(booking, Outcome(), errors)
        booking.checkpoint = {"phase": "done"}
    raise JobFailed(
        f"{len(errors)} of {total} records failed, so nothing was written (on_error=atomic)."
    )
