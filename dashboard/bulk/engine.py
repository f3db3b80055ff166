"""The import job: read a spooled file in chunks, convert, let the record type's writer write
each chunk set-based, and keep the job's progress, counts, errors and checkpoint.

Safe to retry: each chunk's writes and its checkpoint (the next record index) commit in one
transaction, so a task handed out again after its worker died resumes after the last committed
chunk. Before writing, one streaming pass loads every record's key into a temp table: it gives
the total, finds keys repeated inside the file (reported with both indices; the first one is
used) and, for `sync`, the list of keys to keep. Atomic mode runs every chunk inside one outer
transaction and rolls all of it back on the first error of any kind, then records the errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction

from dashboard.jobs.runner import JobFailed, JobRun

from . import staging
from .readers import RawRecord, read_records
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
KEY_BATCH = 20_000


def chunk_size() -> int:
    return int(getattr(settings, "BULK_CHUNK_SIZE", DEFAULT_CHUNK_SIZE))


class _Rollback(Exception):
    """Unwinds the outer transaction of an atomic import that met errors."""


class _Prepass:
    """Totals, duplicate keys and a temp table of every key in the file."""

    def __init__(self, table: str):
        self.table = table
        self.total = 0
        self.fatal = False
        self.duplicates: dict[int, tuple[str, int]] = {}  # later index → (key, first index)


def _key_values(record_type: RecordType, raw: RawRecord, unknown: str) -> dict[str, Any] | None:
    if raw.error or not isinstance(raw.data, dict):
        return None
    subset = {k: raw.data[k] for k in record_type.key_fields if k in raw.data}
    try:
        return convert_record(record_type, subset, from_text=raw.from_text, unknown=unknown)
    except RecordError:
        return None


def _prepass(
    records: Iterator[RawRecord], *, record_type, writer, options: ImportOptions, table: str
) -> _Prepass:
    found = _Prepass(table)
    staging.temp_table(table, [("key", "text"), ("idx", "int")], index="key")
    pending: list[tuple[str, int]] = []
    for raw in records:
        found.total = raw.index + 1
        found.fatal = found.fatal or raw.fatal
        values = _key_values(record_type, raw, options.unknown)
        key = writer.key_of(values, options.key) if values is not None else None
        if key is not None:
            pending.append((key, raw.index))
            if len(pending) >= KEY_BATCH:
                staging.load(table, ["key", "idx"], pending)
                pending = []
    if pending:
        staging.load(table, ["key", "idx"], pending)
    staging.analyze(table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT idx, key, first FROM (SELECT idx, key, MIN(idx) OVER (PARTITION BY key)"
            f" AS first FROM {table}) ranked WHERE idx <> first"
        )
        for idx, key, first in cursor.fetchall():
            found.duplicates[int(idx)] = (key, int(first))
    return found


def _error_key(raw: Any, options: ImportOptions) -> str:
    if isinstance(raw, dict):
        value = raw.get(options.key)
        if value not in (None, ""):
            return str(value)
    return ""


class _Writer:
    """Feeds chunks to the record type's writer and books their outcome on the job."""

    def __init__(self, run: JobRun, writer, options: ImportOptions, *, atomic: bool):
        self.run = run
        self.writer = writer
        self.options = options
        self.atomic = atomic
        self.held_errors: list[RowError] = []  # atomic mode: recorded after the rollback

    def book(self, chunk, outcome: Outcome, errors: list[RowError]) -> None:
        for name, n in outcome.counts.items():
            chunk.count(name, n)
        for error in [*errors, *outcome.errors]:
            if self.atomic:
                self.held_errors.append(error)
                chunk.count("failed")
            else:
                chunk.error(
                    index=error.index,
                    key=error.key,
                    input=error.input,
                    message=error.message,
                    error_type=error.error_type,
                )

    def write_chunks(self, records, *, record_type, prepass: _Prepass, start: int) -> None:
        size = chunk_size()
        batch: list[Record] = []
        errors: list[RowError] = []
        seen = 0
        last = start - 1
        for raw in records:
            if raw.index < start:
                continue
            last = raw.index
            seen += 1
            if raw.error:
                errors.append(
                    RowError(
                        raw.index,
                        raw.error,
                        key=_error_key(raw.data, self.options),
                        input=raw.data,
                        error_type="parse",
                    )
                )
            elif raw.index in prepass.duplicates:
                key, first = prepass.duplicates[raw.index]
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
            else:
                try:
                    values = convert_record(
                        record_type, raw.data, from_text=raw.from_text, unknown=self.options.unknown
                    )
                except RecordError as exc:
                    errors.append(
                        RowError(
                            raw.index,
                            exc.message,
                            key=_error_key(raw.data, self.options),
                            input=raw.data,
                            error_type=exc.error_type,
                        )
                    )
                else:
                    batch.append(Record(raw.index, values, raw.data))
            if seen >= size:
                self.flush(batch, errors, done=seen, next_index=last + 1)
                batch, errors, seen = [], [], 0
        if seen:
            self.flush(batch, errors, done=seen, next_index=last + 1)

    def flush(self, batch, errors, *, done: int, next_index: int) -> None:
        with self.run.chunk() as chunk:
            outcome = (
                self.writer.write(batch, mode=self.options.mode, key=self.options.key)
                if batch
                else Outcome()
            )
            self.book(chunk, outcome, errors)
            chunk.done = done
            chunk.checkpoint = {"phase": "write", "next": next_index}

    def delete_missing(self, table: str) -> None:
        with self.run.chunk() as chunk:
            outcome = self.writer.delete_missing(table, key=self.options.key)
            self.book(chunk, outcome, [])
            chunk.checkpoint = {"phase": "write", "next": self.run.checkpoint.get("next", 0)}


def _table_name(job_id: str) -> str:
    return "bulk_keys_" + re.sub(r"[^a-z0-9]", "", job_id.lower())


def run_import(run: JobRun, *, record_type: RecordType, options: ImportOptions, path: str) -> dict:
    """The body of an import job kind: `params` carry the spooled file's storage path."""
    writer = record_type.writer(run.params)
    if run.checkpoint.get("phase") == "done":
        # A retry after the last chunk committed: only the spool file may be left to remove.
        if default_storage.exists(path):
            default_storage.delete(path)
        return {"counts": run.job.counts}
    table = _table_name(run.job.pk)
    atomic = options.on_error == "atomic"
    book = _Writer(run, writer, options, atomic=atomic)
    try:
        return _run(run, record_type, options, path, writer, table, book, atomic)
    except JobFailed:
        if default_storage.exists(path):
            default_storage.delete(path)
        raise
    finally:
        staging.temp_table_drop(table)


def _run(run, record_type, options, path, writer, table, book, atomic) -> dict:
    with default_storage.open(path, "rb") as handle:
        prepass = _prepass(
            read_records(handle, options.format),
            record_type=record_type,
            writer=writer,
            options=options,
            table=table,
        )
    if run.job.progress_total != prepass.total:
        run.set_total(prepass.total)

    def body():
        with default_storage.open(path, "rb") as handle:
            book.write_chunks(
                read_records(handle, options.format),
                record_type=record_type,
                prepass=prepass,
                start=0 if atomic else run.checkpoint.get("next", 0),
            )
        if options.mode == "sync" and not prepass.fatal and not (atomic and book.held_errors):
            book.delete_missing(table)

    if atomic:
        try:
            with transaction.atomic():
                body()
                if book.held_errors:
                    raise _Rollback
        except _Rollback:
            _record_failure(run, book.held_errors, prepass.total)
    else:
        body()
    if options.mode == "sync" and prepass.fatal:
        with run.chunk() as chunk:
            chunk.checkpoint = {"phase": "done"}
        raise JobFailed(
            "The file could not be read to the end, so sync deleted nothing; the rows read "
            "before the error were written. Fix the file and run the sync again."
        )
    with run.chunk() as chunk:
        chunk.checkpoint = {"phase": "done"}
    default_storage.delete(path)
    return {"counts": run.job.counts}


def _record_failure(run: JobRun, errors: list[RowError], total: int) -> None:
    """Atomic import with errors: everything was rolled back; record the errors and fail."""
    run.job.refresh_from_db()
    run.job.progress_done = 0
    with run.chunk() as chunk:
        for error in errors:
            chunk.error(
                index=error.index,
                key=error.key,
                input=error.input,
                message=error.message,
                error_type=error.error_type,
            )
        chunk.checkpoint = {"phase": "done"}
    raise JobFailed(
        f"{len(errors)} of {total} records failed, so nothing was written (on_error=atomic)."
    )
