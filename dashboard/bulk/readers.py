"""Streaming readers for CSV, JSON (one array) and NDJSON: records one at a time, never the
whole file in memory, with a clear per-record error for what cannot be read.

A reader yields `RawRecord`s numbered from 0 (a CSV header is not a record). A problem confined
to one record (a bad NDJSON line, a CSV row with the wrong column count, bytes that are not
UTF-8) is that record's error; a problem after which the rest cannot be read (unbalanced CSV
quotes, broken JSON inside the array) is a `fatal` error at that position and ends the stream.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from . import json_text

READ_SIZE = 1 << 20
MAX_RECORD_CHARS = 64 << 20  # one JSON record may not be larger than this
BOM = b"\xef\xbb\xbf"

csv.field_size_limit(MAX_RECORD_CHARS)


@dataclass
class RawRecord:
    index: int
    data: Any = None
    error: str | None = None
    fatal: bool = False
    from_text: bool = False  # CSV cells are text and get converted


def read_records(fileobj: IO[bytes], fmt: str) -> Iterator[RawRecord]:
    """The records of a binary file object in the given format."""
    if fmt == "csv":
        return _csv_records(fileobj)
    if fmt == "json":
        return _json_records(fileobj)
    if fmt == "ndjson":
        return _ndjson_records(fileobj)
    raise ValueError(f"unknown format {fmt!r}")


def count_records(fileobj: IO[bytes], fmt: str) -> int | None:
    """A quick count of the records, for progress before they are read: NDJSON's non-blank
    lines; for CSV the lines after the header (an estimate when cells hold line breaks); None
    for a JSON array."""
    if fmt == "ndjson":
        return sum(1 for line in fileobj if line.strip())
    if fmt == "csv":
        lines, last = 0, b"\n"
        while block := fileobj.read(READ_SIZE):
            lines += block.count(b"\n")
            last = block[-1:]
        return max(0, lines + (last != b"\n") - 1)
    return None


def csv_header(fileobj: IO[bytes]) -> list[str] | None:
    """The header of a CSV file (for checking columns before a job starts), or None."""
    for record in _csv_rows(fileobj):
        return record[0]
    return None


# ---------------------------------------------------------------- NDJSON


def _ndjson_records(fileobj: IO[bytes]) -> Iterator[RawRecord]:
    index = 0
    for line_no, line in enumerate(fileobj, start=1):
        if line_no == 1 and line.startswith(BOM):
            line = line[len(BOM) :]
        if not line.strip():
            continue
        try:
            data = json_text.loads(line)
        except UnicodeDecodeError as exc:
            yield RawRecord(index, error=f"Line {line_no} is not valid UTF-8 ({exc.reason}).")
        except ValueError as exc:
            yield RawRecord(index, error=f"Line {line_no} is not valid JSON: {exc}.")
        else:
            if isinstance(data, dict):
                yield RawRecord(index, data)
            else:
                yield RawRecord(index, error=f"Line {line_no} must hold a JSON object.")
        index += 1


# ---------------------------------------------------------------- CSV


class _Lines:
    """Decoded lines for csv.reader; remembers lines that were not UTF-8."""

    def __init__(self, fileobj: IO[bytes]):
        self.fileobj = fileobj
        self.line_no = 0
        self.bad_lines: list[int] = []

    def __iter__(self):
        for raw in self.fileobj:
            self.line_no += 1
            if self.line_no == 1 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.bad_lines.append(self.line_no)
                yield raw.decode("utf-8", errors="replace")


def _csv_rows(fileobj: IO[bytes]) -> Iterator[tuple[list[str], int, list[int], str | None]]:
    """(cells, line number, lines not UTF-8, fatal error) per non-blank CSV row."""
    lines = _Lines(fileobj)
    reader = csv.reader(iter(lines), strict=True)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield [], lines.line_no, [], f"Malformed CSV near line {lines.line_no}: {exc}."
            return
        bad, lines.bad_lines = lines.bad_lines, []
        if not row or (len(row) == 1 and not row[0].strip() and not bad):
            continue
        yield row, lines.line_no, bad, None


def _csv_records(fileobj: IO[bytes]) -> Iterator[RawRecord]:
    header: list[str] | None = None
    index = 0
    for row, line_no, bad, fatal in _csv_rows(fileobj):
        if fatal:
            yield RawRecord(index, error=fatal + " The rest of the file was not read.", fatal=True)
            return
        if header is None:
            if bad:
                yield RawRecord(
                    index,
                    error="The CSV header is not valid UTF-8: save the file as UTF-8.",
                    fatal=True,
                )
                return
            header = [name.strip() for name in row]
            continue
        if bad:
            yield RawRecord(index, error=f"Line {bad[0]} is not valid UTF-8.")
        elif len(row) != len(header):
            yield RawRecord(
                index,
                data=dict(zip(header, row, strict=False)),
                error=f"Line {line_no} has {len(row)} columns; the header has {len(header)}.",
            )
        else:
            yield RawRecord(index, dict(zip(header, row, strict=True)), from_text=True)
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


def _json_records(fileobj: IO[bytes]) -> Iterator[RawRecord]:
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
                while True:
                    try:
                        data, end = decoder.raw_decode(stream.buf, stream.pos)
                        if end < len(stream.buf) or not stream.fill():
                            break  # a value cut at the buffer's end (a number) is re-read
                        continue
                    except RecursionError:
                        yield fatal(f"Record {index} is nested too deeply (over 1,024 levels).")
                        return
                    except json.JSONDecodeError as exc:
                        incomplete = exc.pos >= len(stream.buf) - 1 or exc.msg.startswith(
                            "Unterminated"
                        )
                        if (
                            not incomplete
                            or len(stream.buf) - stream.pos > MAX_RECORD_CHARS
                            or not stream.fill()
                        ):
                            yield fatal(f"Record {index} is not valid JSON: {exc.msg}.")
                            return
                try:  # the same strict reading as every other input (json_text)
                    data = json_text.loads_text(stream.buf[stream.pos : end])
                except ValueError as exc:
                    yield RawRecord(index, error=f"Record {index} is not valid JSON: {exc}.")
                else:
                    if isinstance(data, dict):
                        yield RawRecord(index, data)
                    else:
                        yield RawRecord(index, error="A record must be a JSON object.")
                stream.pos = end
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
