"""How a record type plugs into the bulk engine: its fields, unique keys and chunk writer.

An app declares e.g. `RecordType(name="data_rows", fields=(...), keys=("global_key", "id"),
writer=make_writer)`; `make_writer(params)` returns a `ChunkWriter` that classifies and writes
one chunk of converted records set-based, and deletes what a sync did not list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from dashboard.errors import Invalid

from .fields import MISSING, Field, FieldError

MODES = ("create", "upsert", "sync")
ON_ERROR = ("continue", "atomic")
UNKNOWN = ("reject", "ignore")


class RecordError(ValueError):
    """One record cannot be used: the message says why (and which field)."""

    def __init__(self, message: str, *, error_type: str = "validation"):
        super().__init__(message)
        self.message = message
        self.error_type = error_type


@dataclass
class Record:
    """One converted input record: its 0-based position, typed values and the raw input."""

    index: int
    values: dict[str, Any]
    raw: Any


# A row failure's stable, machine-readable `code` per kind of failure (`error_type`): one
# shape, `{index, key, input, message, error_type, code}`, in every synchronous answer and in
# `jobs/{id}/errors/` (API.md, "Seed parity additions").
ROW_ERROR_CODES = {
    "validation": "invalid",
    "parse": "parse_error",
    "content": "invalid",
    "duplicate": "duplicate",
    "not_found": "not_found",
    "exists": "already_exists",
    "register": "conflict",
    "in_use": "in_use",
    "already_queued": "already_queued",
}


def row_error_code(error_type: str | None) -> str:
    """The `code` of a row failure of this kind (`invalid` for a kind without its own)."""
    return ROW_ERROR_CODES.get(error_type or "", "invalid")


def row_failure(
    *, index: int | None, key: str | None, input: Any, message: str, error_type: str
) -> dict[str, Any]:
    """A row failure in the one shape every answer uses."""
    return {
        "index": index,
        "key": key or "",
        "input": input,
        "message": message,
        "error_type": error_type,
        "code": row_error_code(error_type),
    }


@dataclass
class RowError:
    index: int | None
    message: str
    key: str = ""
    input: Any = None
    error_type: str = "validation"

    def as_failure(self) -> dict[str, Any]:
        """`{index, key, input, message, error_type, code}`."""
        return row_failure(
            index=self.index,
            key=self.key,
            input=self.input,
            message=self.message,
            error_type=self.error_type,
        )


@dataclass
class Outcome:
    """What writing one chunk did."""

    counts: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


class ChunkWriter(Protocol):
    def key_of(self, values: dict[str, Any], key: str) -> str | None:
        """The record's unique-key value (no database access), or None."""

    def write(self, records: list[Record], *, mode: str, key: str) -> Outcome:
        """Classify (created / updated / unchanged / error) and write one chunk set-based."""

    def delete_missing(self, keys_table: str, *, key: str) -> Outcome:
        """Sync: delete the target's rows whose key is not in `keys_table` (column `key`)."""


@dataclass(frozen=True)
class RecordType:
    name: str
    label: str
    fields: tuple[Field, ...]
    keys: tuple[str, ...]
    default_key: str
    writer: Callable[[dict[str, Any]], ChunkWriter]
    # The fields `key_of` reads: a record whose other fields are bad still claims its key.
    key_fields: tuple[str, ...] = ()

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field | None:
        return self._by_name.get(name)

    @property
    def _by_name(self) -> dict[str, Field]:
        cached = self.__dict__.get("_fields_by_name")
        if cached is None:
            cached = {f.name: f for f in self.fields}
            object.__setattr__(self, "_fields_by_name", cached)
        return cached


@dataclass(frozen=True)
class ImportOptions:
    format: str
    mode: str = "upsert"
    key: str = ""
    on_error: str = "continue"
    unknown: str = "reject"

    def as_params(self) -> dict[str, str]:
        return {
            "format": self.format,
            "mode": self.mode,
            "key": self.key,
            "on_error": self.on_error,
            "unknown": self.unknown,
        }


def import_options(
    record_type: RecordType,
    *,
    format: str,
    mode: str | None = None,
    key: str | None = None,
    on_error: str | None = None,
    unknown: str | None = None,
) -> ImportOptions:
    """Validated options, or `Invalid` naming the bad one."""
    mode = mode or "upsert"
    key = key or record_type.default_key
    on_error = on_error or "continue"
    unknown = unknown or "reject"
    if mode not in MODES:
        raise Invalid(f"Unknown mode {mode!r}: use create, upsert or sync.", field="mode")
    if key not in record_type.keys:
        raise Invalid(f"Unknown key {key!r}: use {' or '.join(record_type.keys)}.", field="key")
    if on_error not in ON_ERROR:
        raise Invalid(f"Unknown error mode {on_error!r}: use continue or atomic.", field="on_error")
    if unknown not in UNKNOWN:
        raise Invalid(f"Use unknown=reject or unknown=ignore, not {unknown!r}.", field="unknown")
    return ImportOptions(format=format, mode=mode, key=key, on_error=on_error, unknown=unknown)


def check_columns(record_type: RecordType, columns: Iterable[str], *, unknown: str) -> None:
    """A CSV header: duplicate or (unless ignored) unknown columns → `Invalid`."""
    columns = list(columns)
    seen = set()
    for name in columns:
        if name in seen:
            raise Invalid(f"Column {name!r} appears twice in the header.", field="file")
        seen.add(name)
    extra = [c for c in columns if record_type.field(c) is None]
    if extra and unknown != "ignore":
        raise Invalid(
            f"Unknown column(s) {', '.join(map(repr, extra))}: the columns are "
            f"{', '.join(record_type.field_names)} (or send ?unknown=ignore).",
            field="file",
        )


def convert_record(
    record_type: RecordType, raw: Any, *, from_text: bool, unknown: str
) -> dict[str, Any]:
    """Typed values of the fields the record gives (missing ones left out), or RecordError."""
    if not isinstance(raw, dict):
        raise RecordError("A record must be an object.", error_type="parse")
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in raw.items():
        spec = record_type.field(name)
        if spec is None:
            if unknown != "ignore":
                problems.append(
                    f"{name}: unknown field (the fields are {', '.join(record_type.field_names)})."
                )
            continue
        try:
            converted = spec.convert(value, from_text=from_text)
        except FieldError as exc:
            problems.append(str(exc))
            continue
        if converted is not MISSING:
            values[name] = converted
    if problems:
        raise RecordError(" ".join(problems))
    return values


def with_defaults(record_type: RecordType, values: dict[str, Any]) -> dict[str, Any]:
    """Values for a new record: every missing optional field gets its default; a missing
    required field → RecordError."""
    full = dict(values)
    for spec in record_type.fields:
        if spec.name in full:
            continue
        if spec.required:
            raise RecordError(f"{spec.name}: this field is required.")
        default = spec.default_value()
        if default is not MISSING:
            full[spec.name] = default
    return full
