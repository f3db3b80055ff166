"""Streaming readers for CSV, JSON (one array) and NDJSON: records one at a time, never the
whole file in memory, with a clear per-record error for what cannot be read.

A reader yields `RawRecord`s numbered from 0 (a CSV header is not a record). A problem confined
to one record (a bad NDJSON line, a CSV row with the wrong column count, bytes that are not
UTF-8) is that record's error; a problem after which the rest cannot be read (unbalanced CSV
quotes, broken JSON inside the array) is a `fatal` error at that position and ends the stream.

No record is held larger than `BULK_MAX_RECORD_BYTES`: a longer NDJSON line, CSV record or
element of a JSON array is read past in bounded pieces (never whole) and becomes that record's
error naming the limit; the records after it are read as usual. A CSV cell loses the one `'`
that an export puts before a formula character (`csv_cells`).
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings

from dashboard import strict_json

from .csv_cells import csv_unescape

READ_SIZE = 1 << 20
DEFAULT_MAX_RECORD_BYTES = 16 * 1024**2
BOM = b"\xef\xbb\xbf"


def max_record_bytes() -> int:
    """The record size limit: settings.BULK_MAX_RECORD_BYTES, 16 MiB by default."""
    return int(getattr(settings, "BULK_MAX_RECORD_BYTES", DEFAULT_MAX_RECORD_BYTES))


def too_large(where: str, limit: int) -> str:
    """The error of a record over the limit; `where` is "Line 7" or "Record 3" (lines and
    records are counted from 1, as people count them)."""
    return f"{where}: the record is larger than {limit} bytes (BULK_MAX_RECORD_BYTES)."


@dataclass
class RawRecord:
    index: int
    data: Any = None
    error: str | None = None
    fatal: bool = False
    from_text: bool = False  # CSV cells are text and get converted
    size: int = 0  # bytes (characters for a JSON array) of the record's text


def read_records(fileobj: IO[bytes], fmt: str, *, limit: int | None = None) -> Iterator[RawRecord]:
    """The records of a binary file object in the given format; `limit` bytes per record
    (default: `max_record_bytes()`)."""
    limit = max_record_bytes() if limit is None else limit
    if fmt == "csv":
        return _csv_records(fileobj, limit)
    if fmt == "json":
        return _json_records(fileobj, limit)
    if fmt == "ndjson":
        return _ndjson_records(fileobj, limit)
    raise ValueError(f"unknown format {fmt!r}")


def count_records(fileobj: IO[bytes], fmt: str) -> int | None:
    """A quick count of the records, for progress before they are read: NDJSON's non-blank
    lines; for CSV the lines after the header (an estimate when cells hold line breaks); None
    for a JSON array."""
    if fmt == "ndjson":
        count, content = 0, False
        while piece := fileobj.readline(READ_SIZE):  # a long line in pieces, not whole
            content = content or bool(piece.strip())
            if piece.endswith(b"\n"):
                count, content = count + content, False
        return count + content
    if fmt == "csv":
        lines, last = 0, b"\n"
        while block := fileobj.read(READ_SIZE):
            lines += block.count(b"\n")
            last = block[-1:]
        return max(0, lines + (last != b"\n") - 1)
    return None


def csv_header(fileobj: IO[bytes], *, limit: int | None = None) -> list[str] | None:
    """The header of a CSV file (for checking columns before a job starts), or None; a
    header over the record size limit → ValueError saying so."""
    limit = max_record_bytes() if limit is None else limit
    for cells, _, _, _, problem in _csv_rows(fileobj, limit):
        if problem is TOO_LARGE:
            raise ValueError(too_large("The CSV header", limit))
        return cells
    return None


def _skip_line(fileobj: IO[bytes]) -> int:
    """Read past the rest of a line in bounded pieces; the bytes skipped."""
    skipped = 0
    while piece := fileobj.readline(READ_SIZE):
        skipped += len(piece)
        if piece.endswith(b"\n"):
            break
    return skipped


# ---------------------------------------------------------------- NDJSON


def _ndjson_records(fileobj: IO[bytes], limit: int) -> Iterator[RawRecord]:
    index = 0
    line_no = 0
    # At most limit + 1 bytes of a line are read at once: more means the record is too large.
    while line := fileobj.readline(limit + 1 + (len(BOM) if line_no == 0 else 0)):
        line_no += 1
        if line_no == 1 and line.startswith(BOM):
            line = line[len(BOM) :]
        size = len(line) - line.endswith(b"\n")
        if size > limit:
            yield RawRecord(
                index, error=too_large(f"Line {line_no}", limit), size=size + _skip_line(fileobj)
            )
            index += 1
            continue
        if not line.strip():
            continue
        try:
            data = strict_json.loads(line)
        except UnicodeDecodeError as exc:
            yield RawRecord(index, error=f"Line {line_no} is not valid UTF-8 ({exc.reason}).")
        except ValueError as exc:
            yield RawRecord(index, error=f"Line {line_no} is not valid JSON: {exc}.")
        else:
            if isinstance(data, dict):
                yield RawRecord(index, data, size=size)
            else:
                yield RawRecord(index, error=f"Line {line_no} must hold a JSON object.")
        index += 1


# ---------------------------------------------------------------- CSV

# The csv module's own bound on a field is only a backstop: `_Lines` stops a record at the
# limit before the parser sees it. (The bound is process-wide; the key lists of batches read
# CSV with it too.)
CSV_FIELD_LIMIT = 64 << 20
csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))

_CSV_FIELD_END = re.compile(rb"[,\n]")
_FIELD_START, _UNQUOTED, _QUOTED, _AFTER_QUOTE = range(4)


class _TooLarge(Exception):
    """The CSV record being read is over the limit; it has been read past."""

    def __init__(self, line_no: int, size: int, *, unclosed: bool):
        super().__init__(line_no, size)
        self.line_no = line_no
        self.size = size
        self.unclosed = unclosed  # the file ended inside its quotes


def _skip_csv_record(
    piece: bytes, fileobj: IO[bytes], *, quoted: bool
) -> tuple[int, int, bool, bool]:
    """Read past the rest of a CSV record whose current line begins with `piece`, in bounded
    pieces; `quoted` when that line starts inside a quoted field (a record that goes on from
    an earlier line). The same rules as `csv.reader` (comma, double quote, "" inside quotes):
    returns (bytes read, line breaks read, whether the record ended with a line break, whether
    the file ended inside a quoted field)."""
    state = _QUOTED if quoted else _FIELD_START
    size = breaks = 0
    while piece:
        size += len(piece)
        breaks += piece.endswith(b"\n")  # a line break always ends a piece (readline)
        i, n = 0, len(piece)
        while i < n:
            if state == _QUOTED:
                j = piece.find(b'"', i)
                if j < 0:
                    break
                state, i = _AFTER_QUOTE, j + 1
            elif state == _UNQUOTED:
                match = _CSV_FIELD_END.search(piece, i)
                if match is None:
                    break
                if match.group() == b"\n":
                    return size, breaks, True, False
                state, i = _FIELD_START, match.end()
            elif state == _AFTER_QUOTE:  # "" inside the quotes, or the field's closing quote
                char = piece[i : i + 1]
                state = _QUOTED if char == b'"' else _FIELD_START if char == b"," else _UNQUOTED
                if char in (b'"', b","):
                    i += 1
            else:  # _FIELD_START
                if piece[i : i + 1] == b'"':
                    state, i = _QUOTED, i + 1
                else:
                    state = _UNQUOTED
        piece = fileobj.readline(READ_SIZE)
    return size, breaks, False, state == _QUOTED


class _Lines:
    """Decoded lines for csv.reader, never more than the record limit of one record: a line
    that would take the record past it is read past (with the rest of the record) and raises
    `_TooLarge`. Remembers lines that were not UTF-8 and whether a `'` was seen (cells to
    unescape). `next_record()` after each record."""

    def __init__(self, fileobj: IO[bytes], limit: int):
        self.readline = fileobj.readline
        self.fileobj = fileobj
        self.limit = limit
        self.line_no = 0
        self.bad_lines: list[int] = []
        self.quotes = False  # a ' in the record
        self.record_bytes = 0  # bytes of the record being read, handed out so far
        self.record_line = 1

    def __iter__(self):
        return self

    def __next__(self) -> str:
        room = self.limit - self.record_bytes
        if self.line_no:
            raw = self.readline(room + 1 if room > 0 else 1)
        else:
            raw = self.readline(room + 1 + len(BOM))
            if raw.startswith(BOM):
                raw = raw[len(BOM) :]
        if not raw:
            raise StopIteration
        self.line_no += 1
        if len(raw) > room and len(raw) - raw.endswith(b"\n") > room:
            size, breaks, ended, unclosed = _skip_csv_record(
                raw, self.fileobj, quoted=self.record_bytes > 0
            )
            error = _TooLarge(self.record_line, self.record_bytes + size, unclosed=unclosed)
            self.line_no += breaks - ended
            self.next_record()
            raise error
        self.record_bytes += len(raw)
        if b"'" in raw:
            self.quotes = True
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.bad_lines.append(self.line_no)
            return raw.decode("utf-8", errors="replace")

    def next_record(self) -> tuple[int, list[int], bool]:
        """(bytes of the record just read, its lines that were not UTF-8, whether it holds a
        `'`); starts the next record."""
        done = (self.record_bytes, self.bad_lines, self.quotes)
        self.record_bytes, self.bad_lines, self.quotes = 0, [], False
        self.record_line = self.line_no + 1
        return done


TOO_LARGE = "too large"


def _csv_rows(
    fileobj: IO[bytes], limit: int
) -> Iterator[tuple[list[str], int, list[int], int, str]]:
    """(cells, line number, lines not UTF-8, bytes, problem) of each non-blank CSV row; the
    problem is "", TOO_LARGE (a record over the limit, not read) or a fatal error that ends the
    file. Cells lose the quote an export put before a formula character (`csv_cells`)."""
    if csv.field_size_limit() <= limit:
        csv.field_size_limit(limit + 1)
    lines = _Lines(fileobj, limit)
    reader = csv.reader(lines, strict=True)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except _TooLarge as exc:
            if exc.unclosed:
                message = (
                    f"Malformed CSV near line {exc.line_no}: a quoted field there is not closed "
                    "before the end of the file."
                )
                yield [], exc.line_no, [], 0, message
                return
            yield [], exc.line_no, [], exc.size, TOO_LARGE
            reader = csv.reader(lines, strict=True)  # the old one is inside the skipped record
            continue
        except csv.Error as exc:
            yield [], lines.line_no, [], 0, f"Malformed CSV near line {lines.line_no}: {exc}."
            return
        size, bad, quotes = lines.next_record()
        if not row or (len(row) == 1 and not row[0].strip() and not bad):
            continue
        if quotes:
            row = [csv_unescape(cell) for cell in row]
        yield row, lines.line_no, bad, size, ""


def _csv_records(fileobj: IO[bytes], limit: int) -> Iterator[RawRecord]:
    header: list[str] | None = None
    index = 0
    for cells, line_no, bad, size, problem in _csv_rows(fileobj, limit):
        if problem and problem is not TOO_LARGE:
            yield RawRecord(
                index, error=problem + " The rest of the file was not read.", fatal=True
            )
            return
        if header is None:
            if problem or bad:
                yield RawRecord(
                    index,
                    error=(
                        too_large("The CSV header", limit)
                        if problem
                        else "The CSV header is not valid UTF-8: save the file as UTF-8."
                    ),
                    fatal=True,
                )
                return
            header = [name.strip() for name in cells]
            continue
        if problem:
            yield RawRecord(index, error=too_large(f"Line {line_no}", limit))
        elif bad:
            yield RawRecord(index, error=f"Line {bad[0]} is not valid UTF-8.")
        elif len(cells) != len(header):
            yield RawRecord(
                index,
                data=dict(zip(header, cells, strict=False)),
                error=f"Line {line_no} has {len(cells)} columns; the header has {len(header)}.",
                size=size,
            )
        else:
            yield RawRecord(index, dict(zip(header, cells, strict=True)), from_text=True, size=size)
        index += 1


# ---------------------------------------------------------------- JSON array


class _JsonStream:
    """A growing text buffer over a binary file, decoded as UTF-8 incrementally."""

    def __init__(self, fileobj: IO[bytes]):
        self.fileobj = fileobj
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.buf = ""
        self.pos = 0
        self.eof = False

    def fill(self) -> bool:
        """Read more; False at the end of the file."""
        if self.eof:
            return False
        data = self.fileobj.read(READ_SIZE)
        self.eof = not data
        text = self.decoder.decode(data, final=self.eof)  # UnicodeDecodeError propagates
        if self.pos > READ_SIZE:
            self.buf, self.pos = self.buf[self.pos :], 0
        self.buf += text
        return bool(data)

    def skip_space(self) -> str:
        """The next non-space character ("" at the end), not consumed."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return ""


_JSON_STOP = re.compile(r'["\[\]{},]')
_STRING_STOP = re.compile(r'["\\]')


def _skip_json_value(stream: _JsonStream) -> bool:
    """Move past the JSON value at `stream.pos` without parsing it, in bounded pieces (strings,
    escapes and brackets followed; the value is not checked); False when the file ends first."""
    depth, in_string, i = 0, False, stream.pos
    while True:
        buf = stream.buf
        if in_string:
            match = _STRING_STOP.search(buf, i)
            if match is not None and (match.group() == '"' or match.end() < len(buf)):
                if match.group() == '"':
                    in_string, i = False, match.end()
                    if depth == 0:
                        stream.pos = i
                        return True
                else:
                    i = match.end() + 1  # the escaped character
                continue
            i = len(buf) if match is None else match.start()
        else:
            match = _JSON_STOP.search(buf, i)
            if match is not None:
                char = match.group()
                if char == '"':
                    in_string = True
                elif char in "[{":
                    depth += 1
                elif depth == 0:  # `,` or a closing bracket after a bare value: not ours
                    stream.pos = match.start()
                    return True
                elif char != ",":
                    depth -= 1
                i = match.end()
                if depth == 0 and char in "]}":
                    stream.pos = i
                    return True
                continue
            i = len(buf)
        stream.pos = i
        if not stream.fill():
            return False
        i = stream.pos


def _json_records(fileobj: IO[bytes], limit: int) -> Iterator[RawRecord]:
    stream = _JsonStream(fileobj)
    decoder = json.JSONDecoder()
    index = 0

    def fatal(message: str) -> RawRecord:
        return RawRecord(index, error=message + " The rest of the file was not read.", fatal=True)

    try:
        first = stream.skip_space()
        if first != "[":
            yield fatal(
                "The file is empty."
                if first == ""
                else "A JSON file must hold one array of "
                "records ([{...}, {...}]); use NDJSON for one object per line."
            )
            return
        stream.pos += 1
        if stream.skip_space() == "]":
            stream.pos += 1
        else:
            while True:
                end = None  # the record's end, or None when it is larger than the limit
                while True:
                    try:
                        _, end = decoder.raw_decode(stream.buf, stream.pos)
                        if end < len(stream.buf):
                            break
                    except RecursionError:
                        yield fatal(f"Record {index + 1} is nested too deeply (over 1,024 levels).")
                        return
                    except json.JSONDecodeError as exc:
                        incomplete = exc.pos >= len(stream.buf) - 1 or exc.msg.startswith(
                            "Unterminated"
                        )
                        if not incomplete or stream.eof:
                            yield fatal(f"Record {index + 1} is not valid JSON: {exc.msg}.")
                            return
                        end = None
                    # Cut at the buffer's end (a number is re-read): read on, up to the limit.
                    if len(stream.buf) - stream.pos > limit:
                        end = None
                        break
                    if not stream.fill() and end is not None:
                        break
                if end is None:  # larger than the limit: read past it
                    if not _skip_json_value(stream):
                        yield fatal("The JSON array ends without ']'.")
                        return
                    yield RawRecord(index, error=too_large(f"Record {index + 1}", limit))
                else:
                    text = stream.buf[stream.pos : end].encode("utf-8", "surrogatepass")
                    stream.pos = end
                    yield _json_record(index, text, limit)
                index += 1
                sep = stream.skip_space()
                if sep == ",":
                    stream.pos += 1
                    stream.skip_space()
                    continue
                if sep == "]":
                    stream.pos += 1
                    break
                yield fatal(
                    "The JSON array ends without ']'."
                    if sep == ""
                    else f"Expected ',' or ']' after record {index - 1}, found {sep!r}."
                )
                return
        if stream.skip_space() != "":
            yield fatal("Unexpected data after the JSON array.")
    except UnicodeDecodeError as exc:
        yield fatal(f"The file is not valid UTF-8 ({exc.reason}) near record {index}.")


def _json_record(index: int, text: bytes, limit: int) -> RawRecord:
    if len(text) > limit:
        return RawRecord(index, error=too_large(f"Record {index + 1}", limit))
    try:  # the same strict reading as every other input (strict_json)
        data = strict_json.loads(text)
    except ValueError as exc:
        return RawRecord(index, error=f"Record {index + 1} is not valid JSON: {exc}.")
    if not isinstance(data, dict):
        return RawRecord(index, error="A record must be a JSON object.")
    return RawRecord(index, data, size=len(text))
