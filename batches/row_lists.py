"""Lists of data rows given as text or an uploaded file: one global key or id per line, CSV
(column `global_key`, `data_row` or `id`, else the first; a cell loses the `'` an export put
before a formula character), a JSON array or NDJSON.

Read as a stream and counted while reading: the reader stops at the first row past `limit`
and at the first value longer than its model field, so a hostile list costs at most `limit`
short strings, never the whole list (10 million keys took a web process to 1 GB)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Generator, Iterable, Iterator
from typing import Any

from dashboard.bulk.csv_cells import csv_unescape
from dashboard.errors import Invalid
from dashboard.strict_json import json_parse
from versions.models import DataRow

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
COLUMNS = ("global_key", "data_row", "id")
TARGETS = {"global_keys": "global_key", "data_rows": "id"}
_SPACE = re.compile(r"[ \t\n\r]*")
# RUN JSON strings in a row, each followed by a comma.
RUN = 1000
_STRING_RUN = re.compile(rf'(?:[ \t\n\r]*"[^"\\]*(?:\\.[^"\\]*)*"[ \t\n\r]*,){{{RUN}}}')
_DECODER = json.JSONDecoder(parse_constant=lambda name: _no_constant(name))


def max_length(target: str) -> int:
    """The longest value the model takes: a global key or a data row id."""
    return DataRow._meta.get_field(TARGETS[target]).max_length


class _Rows:
    """Collects values for `target`, refusing the first one too long or past `limit`."""

    def __init__(self, *, target: str, limit: int):
        self.target, self.limit, self.longest = target, limit, max_length(target)
        self.values: list[str] = []

    def add(self, value: str, where: str) -> None:
        if len(value) > self.longest:
            what = "global key" if self.target == "global_keys" else "data row id"
            raise Invalid(
                f"{where}: {len(value)} characters; a {what} has at most {self.longest}.",
                field=self.target,
            )
        if len(self.values) >= self.limit:
            raise Invalid(too_many(self.limit), field=self.target)
        self.values.append(value)


def too_many(limit: int) -> str:
    return f"At most {limit} rows are accepted; got at least {limit + 1} (reading stopped there)."


def _value(item: Any, *, field: str, where: str) -> str:
    if isinstance(item, dict):
        item = next((item[c] for c in COLUMNS if isinstance(item.get(c), str)), None)
    if not isinstance(item, str):
        raise Invalid(f"{where}: expected a string or an object with global_key / id.", field=field)
    if "\x00" in item:
        raise Invalid(f"{where}: text may not contain NUL characters (\\u0000).", field=field)
    try:
        item.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(f"{where}: not valid Unicode text.", field=field) from None
    return item.strip()


def _guess(head: str) -> str:
    stripped = head.lstrip("\ufeff").strip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        return "ndjson"
    return "csv" if stripped and "," in stripped.splitlines()[0] else "txt"


def _array_items(text: str, i: int, *, field: str) -> Generator[Any, None, int]:
    """The items of the JSON array at `text[i]`, one at a time (never the whole list);
    returns the index after its `]`."""
    if not text.startswith("[", i):
        raise Invalid("Expected a JSON array.", field=field)
    i = _SPACE.match(text, i + 1).end()
    n = 0
    while not text.startswith("]", i):
        try:
            item, i = _DECODER.raw_decode(text, i)
        except ValueError as exc:
            raise Invalid(f"Malformed JSON: {exc}", field=field) from None
        except RecursionError:
            raise Invalid(f"Item {n}: nested too deeply.", field=field) from None
        yield item
        n += 1
        i = _SPACE.match(text, i).end()
        if text.startswith(",", i):
            i = _SPACE.match(text, i + 1).end()
            if text.startswith("]", i):
                raise Invalid(f"Malformed JSON: a comma before ']' at character {i}.", field=field)
        elif not text.startswith("]", i):
            raise Invalid(f"Malformed JSON: expected ',' or ']' at character {i}.", field=field)
    return i + 1


def _json_items(text: str, *, field: str) -> Generator[Any, None, None]:
    end = yield from _array_items(text, _SPACE.match(text, 0).end(), field=field)
    if _SPACE.match(text, end).end() != len(text):
        raise Invalid("Malformed JSON: extra data after the array.", field=field)


def refuse_long_lists(body: bytes, *, limit: int) -> None:
    """Before a JSON object body is parsed: count the items of its `global_keys` /
    `data_rows` array one by one and refuse the list at item `limit + 1`, without building
    it. Anything malformed is left for the JSON parser to report."""
    if body.count(b",") < limit:  # cannot hold more than `limit` items
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return
    for key, count in _list_lengths(text, stop_after=limit + 1):
        if count > limit:
            raise Invalid(too_many(limit), field=key)


def _list_lengths(text: str, *, stop_after: int) -> Iterator[tuple[str, int]]:
    """(key, item count) for the row-list members of the top-level JSON object, counting
    each up to `stop_after`; other members are skipped. Stops quietly at anything malformed."""
    i = _SPACE.match(text, 0).end()
    if not text.startswith("{", i):
        return
    i = _SPACE.match(text, i + 1).end()
    while text.startswith('"', i):
        try:
            key, i = _DECODER.raw_decode(text, i)
            i = _SPACE.match(text, i).end()
            if not text.startswith(":", i):
                return
            i = _SPACE.match(text, i + 1).end()
            if key in TARGETS and text.startswith("[", i):
                count, i = _count_items(text, i, field=key, stop_after=stop_after)
                yield key, count
                if i is None:
                    return
            else:
                _, i = _DECODER.raw_decode(text, i)
        except (ValueError, RecursionError):
            return
        i = _SPACE.match(text, i).end()
        if not text.startswith(",", i):
            return
        i = _SPACE.match(text, i + 1).end()


def _count_items(text: str, i: int, *, field: str, stop_after: int) -> tuple[int, int | None]:
    """How many items the array at `text[i]` has (up to `stop_after`), and the index after
    it (None when counting stopped early). Runs of plain strings are skipped a thousand at a
    time by one regular expression; anything else item by item (ValueError if malformed).
    After a run that does not match, the next RUN items go one by one (linear either way)."""
    count, i, runs_from = 0, _SPACE.match(text, i + 1).end(), 0
    if text.startswith("]", i):
        return 0, i + 1
    while True:
        if count >= runs_from and count + RUN < stop_after:
            run = _STRING_RUN.match(text, i)
            if run:
                count, i = count + RUN, run.end()
                continue
            runs_from = count + RUN
        _, i = _DECODER.raw_decode(text, _SPACE.match(text, i).end())
        count += 1
        if count >= stop_after:
            return count, None
        i = _SPACE.match(text, i).end()
        if text.startswith("]", i):
            return count, i + 1
        if not text.startswith(",", i):
            raise ValueError(f"expected ',' or ']' at character {i}")
        i += 1


def check_rows(values: Any, *, target: str, limit: int) -> None:
    """A parsed list for `target`: refuse the first value longer than its model field (the
    count and the types are the service's to check)."""
    if isinstance(values, list):
        rows = _Rows(target=target, limit=len(values))
        for i, value in enumerate(values):
            if isinstance(value, str):
                rows.add(value, f"Item {i}")


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def _collect(
    lines: Iterable[str], whole: Any, *, fmt: str, field: str, target: str, limit: int
) -> list[str]:
    rows = _Rows(target=target, limit=limit)
    if fmt == "json":
        for i, item in enumerate(_json_items(whole().lstrip("\ufeff"), field=field)):
            rows.add(_value(item, field=field, where=f"Item {i}"), f"Item {i}")
    elif fmt == "ndjson":
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = json_parse(line)
            except json.JSONDecodeError as exc:
                raise Invalid(f"Line {n}: malformed JSON: {exc}", field=field) from None
            rows.add(_value(item, field=field, where=f"Line {n}"), f"Line {n}")
    elif fmt == "csv":
        try:
            records = (r for r in csv.reader(lines) if any(c.strip() for c in r))
            first = next(records, None)
            header = [c.strip().lower() for c in first or []]
            column = next((header.index(c) for c in COLUMNS if c in header), None)
            body = records if column is not None else _chain(first, records)
            column = column or 0
            for n, record in enumerate(body, start=1):
                value = csv_unescape(record[column]).strip() if len(record) > column else ""
                if value:
                    rows.add(value, f"Row {n}")
        except csv.Error as exc:
            raise Invalid(f"Malformed CSV: {exc}", field=field) from None
    elif fmt == "txt":
        for n, line in enumerate(lines, start=1):
            if line.strip():
                rows.add(line.strip(), f"Line {n}")
    else:
        raise Invalid("Unknown format: use csv, json, ndjson or txt.", field="format")
    return rows.values


def _chain(first, rest):
    if first is not None:
        yield first
    yield from rest


def _first_line_without_bom(lines: Iterable[str]) -> Iterator[str]:
    iterator = iter(lines)
    first = next(iterator, None)
    if first is not None:
        yield first.lstrip("\ufeff")
        yield from iterator


def rows_from_text(
    text: str, *, fmt: str = "", field: str = "file", target: str, limit: int
) -> list[str]:
    """Parse a row list for `target` (global_keys or data_rows); `fmt` is csv, json, ndjson or
    txt (guessed when empty); more than `limit` rows or a value too long is a 400."""
    fmt = fmt or _guess(text[:4096])
    lines = _first_line_without_bom(io.StringIO(text))
    return _collect(lines, lambda: text, fmt=fmt, field=field, target=target, limit=limit)


def _upload_lines(upload, *, field: str) -> Iterator[str]:
    upload.seek(0)
    for raw in upload:  # Django's File iterates by lines, reading in chunks
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Invalid("The file must be UTF-8 text.", field=field) from None


def _upload_text(upload, *, field: str) -> str:
    upload.seek(0)
    try:
        return upload.read().decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("The file must be UTF-8 text.", field=field) from None


def rows_from_upload(
    upload, *, fmt: str = "", field: str = "file", target: str, limit: int
) -> list[str]:
    """As `rows_from_text`, read from an uploaded file line by line (a JSON array: item by
    item); the format comes from `fmt`, the file name, or the first bytes."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise Invalid(f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB.", field=field)
    if not fmt:
        name = (upload.name or "").lower()
        fmt = next((ext for ext in ("ndjson", "json", "csv", "txt") if name.endswith(ext)), "")
    if not fmt:
        upload.seek(0)
        fmt = _guess(upload.read(4096).decode("utf-8", "ignore"))
    lines = _first_line_without_bom(_upload_lines(upload, field=field))
    return _collect(
        lines,
        lambda: _upload_text(upload, field=field),
        fmt=fmt,
        field=field,
        target=target,
        limit=limit,
    )
