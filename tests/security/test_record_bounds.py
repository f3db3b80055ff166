"""No bulk record is held larger than BULK_MAX_RECORD_BYTES: a longer NDJSON line, CSV record
or JSON array element is read past in bounded memory and becomes a row error naming the limit;
the job does not fail, the other rows are kept (continue) or nothing is written (atomic).
Before the bound a single 100 MB NDJSON line was accepted and took a worker to 769 MB."""

import io
import json
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboard.bulk.readers import count_records, read_records
from dashboard.models import Job
from versions.bulk.start import rows_import_start
from versions.models import DataRow
from versions.services import dataset_create, version_create

pytestmark = pytest.mark.django_db

LIMIT = 1024**2
BIG = 20 * 1024**2
MESSAGE = f"the record is larger than {LIMIT} bytes (BULK_MAX_RECORD_BYTES)"
GOOD = [{"global_key": "first", "row_data": "s3://a"}, {"global_key": "last", "row_data": "s3://z"}]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def limit(settings):
    settings.BULK_MAX_RECORD_BYTES = LIMIT
    return LIMIT


@pytest.fixture
def draft(db):
    dataset, _ = dataset_create(name="bounds")
    return version_create(dataset=dataset, name="draft")[0]


def write_big_file(path: Path, fmt: str, size: int = BIG) -> Path:
    """good, a record of `size` bytes, good — written in pieces, never whole in memory."""
    piece = b"x" * (1 << 20)
    first, last = (json.dumps(r).encode() for r in GOOD)
    with open(path, "wb") as out:
        if fmt == "ndjson":
            out.write(first + b'\n{"global_key": "big", "row_data": "')
        elif fmt == "csv":
            out.write(b"global_key,row_data\nfirst,s3://a\nbig,")
        else:  # a JSON array; brackets and an escaped quote inside strings of the big one
            out.write(b"[" + first + b',\n{"global_key": "big", "metadata": {"a": "]}\\"{["}, ')
            out.write(b'"row_data": "')
        for _ in range(size // len(piece)):
            out.write(piece)
        if fmt == "ndjson":
            out.write(b'"}\n' + last + b"\n")
        elif fmt == "csv":
            out.write(b"\nlast,s3://z\n")
        else:
            out.write(b'"},\n' + last + b"]\n")
    return path


def run_import(draft, path: Path, fmt: str, run_jobs, measure: bool = False, **options):
    """The import job over a file on disk; (job, tracemalloc peak of the job's run)."""
    peak = 0
    with open(path, "rb") as handle, run_jobs():
        job = rows_import_start(
            version=draft,
            record_type="data_rows",
            fileobj=handle,
            filename=f"rows.{fmt}",
            size=path.stat().st_size,
            **options,
        )
        if measure:  # the job runs when the block ends
            tracemalloc.start()
    if measure:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    job.refresh_from_db()
    return job, peak


@pytest.mark.parametrize("fmt", ["ndjson", "csv", "json"])
def test_a_record_over_the_limit_is_a_row_error_and_the_others_are_kept(
    fmt, limit, draft, run_jobs, tmp_path
):
    path = write_big_file(tmp_path / f"rows.{fmt}", fmt)
    job, peak = run_import(draft, path, fmt, run_jobs, measure=True)
    assert job.status == Job.Status.SUCCEEDED, job.error
    errors = list(job.row_errors.values("index", "message", "input"))
    assert len(errors) == 1 and errors[0]["index"] == 1, errors
    assert MESSAGE in errors[0]["message"] and errors[0]["input"] is None
    keys = set(DataRow.objects.filter(dataset=draft.dataset).values_list("global_key", flat=True))
    assert keys == {"first", "last"}
    assert job.counts["created"] == 2 and job.progress_total == 3
    # The 20 MB record was never held: the whole job stays far below its size.
    assert peak < 8 * 1024**2, f"peak {peak / 1024**2:.1f} MB"


@pytest.mark.parametrize("fmt", ["ndjson", "csv", "json"])
def test_a_record_over_the_limit_in_atomic_mode_writes_nothing(
    fmt, limit, draft, run_jobs, tmp_path
):
    path = write_big_file(tmp_path / f"rows.{fmt}", fmt, size=2 * LIMIT)
    job, _ = run_import(draft, path, fmt, run_jobs, on_error="atomic")
    assert job.status == Job.Status.FAILED and job.errors_count == 1
    assert MESSAGE in job.row_errors.get().message
    assert not DataRow.objects.filter(dataset=draft.dataset).exists()


def test_the_default_limit_is_16_mib(settings):
    """A 10 MB cell is still data by default (tests/reliability/test_bad_files.py)."""
    from dashboard.bulk.readers import max_record_bytes

    assert settings.BULK_MAX_RECORD_BYTES == 16 * 1024**2 == max_record_bytes()


def read(body: bytes, fmt: str, limit: int = 100) -> list[tuple]:
    return [(r.index, r.data, r.error) for r in read_records(io.BytesIO(body), fmt, limit=limit)]


def too_large(where: str, limit: int = 100) -> str:
    return f"{where}: the record is larger than {limit} bytes (BULK_MAX_RECORD_BYTES)."


def test_the_limit_is_bytes_and_a_record_at_the_limit_is_read():
    at = {"kk": "é" * 45}  # 100 bytes as JSON text (55 characters): at the limit
    over = {"kk": "é" * 46}  # 102 bytes
    text = [json.dumps(r, ensure_ascii=False).encode() for r in (at, over)]
    assert [len(t) for t in text] == [100, 102]
    assert read(b"\n".join(text) + b"\n", "ndjson") == [
        (0, at, None),
        (1, None, too_large("Line 2")),
    ]
    assert read(b"[" + b",".join(text) + b"]", "json") == [
        (0, at, None),
        (1, None, too_large("Record 2")),
    ]
    header = b"k\n"
    cells = [b"\xc3\xa9" * 50, b"\xc3\xa9" * 50 + b"x"]  # 100 and 101 bytes
    assert read(header + b"\n".join(cells) + b"\n", "csv") == [
        (0, {"k": "é" * 50}, None),
        (1, None, too_large("Line 3")),
    ]


def test_csv_records_over_the_limit_across_lines_and_quotes():
    body = (
        b"a,b\n"
        b'1,"two\nlines"\n'  # line 2-3: a small record across lines
        b'2,"' + b"q\n" * 80 + b'"\n'  # lines 4-84: 162 bytes over many short lines
        b'3,"x""' + b"y" * 200 + b'"",z"\n'  # line 85: quotes inside quotes
        b"4," + b"w" * 200 + b"\n"  # line 86: unquoted
        b"5,6\n"
        b"7,bad,columns\n"  # line 88: still numbered right
    )
    assert read(body, "csv") == [
        (0, {"a": "1", "b": "two\nlines"}, None),
        (1, None, too_large("Line 4")),
        (2, None, too_large("Line 85")),
        (3, None, too_large("Line 86")),
        (4, {"a": "5", "b": "6"}, None),
        (5, {"a": "7", "b": "bad"}, "Line 88 has 3 columns; the header has 2."),
    ]


def test_a_csv_quote_left_open_in_a_record_over_the_limit_is_fatal():
    records = list(read_records(io.BytesIO(b'a,b\n1,2\n3,"' + b"x" * 500), "csv", limit=100))
    assert records[0].data == {"a": "1", "b": "2"}
    assert records[1].fatal and "line 3: a quoted field there is not closed" in records[1].error


def test_json_elements_over_the_limit_are_read_past():
    long = "y" * 200
    body = json.dumps(
        [{"a": 1}, {"b": ['"]}', {"c": long}]}, long, 12345, 1.5, {"d": 2}], ensure_ascii=False
    ).encode()
    assert read(body, "json") == [
        (0, {"a": 1}, None),
        (1, None, too_large("Record 2")),
        (2, None, too_large("Record 3")),
        (3, None, "A record must be a JSON object."),
        (4, None, "A record must be a JSON object."),
        (5, {"d": 2}, None),
    ]
    cut = list(read_records(io.BytesIO(b'[{"a": 1}, {"b": "' + b"z" * 500), "json", limit=100))
    assert cut[-1].fatal and "ends without ']'" in cut[-1].error


def test_an_ndjson_line_count_does_not_hold_a_long_line():
    body = b'{"a": 1}\n' + b"x" * (3 << 20) + b"\n  \n" + b'{"a": 2}'
    assert count_records(io.BytesIO(body), "ndjson") == 3


def test_a_csv_header_over_the_limit_is_a_400_naming_the_file(limit, draft, manager_api):
    body = b",".join([b"global_key"] + [b"c" * 1000] * 1100) + b"\nk,v\n"
    response = manager_api.post(
        f"/api/v1/datasets/{draft.dataset_id}/data-rows/import/",
        {"file": SimpleUploadedFile("rows.csv", body)},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json() == {"file": [too_large("The CSV header", LIMIT)], "code": "invalid"}
    assert not Job.objects.exists()


READER_PEAK = """
import io, resource, sys, tracemalloc
sys.path.insert(0, {root!r})
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
import django
django.setup()
from dashboard.bulk.readers import count_records, read_records

fmt, path = sys.argv[1], sys.argv[2]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
with open(path, "rb") as handle:
    total = count_records(handle, fmt)
with open(path, "rb") as handle:
    records = [(r.index, r.error) for r in read_records(handle, fmt, limit=1 << 20)]
peak = tracemalloc.get_traced_memory()[1]
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(peak, grown * 1024, len(records), records[1][1])
"""


@pytest.mark.parametrize("fmt", ["ndjson", "csv", "json"])
def test_the_reader_reads_a_100_mb_record_in_bounded_memory(fmt, tmp_path):
    """In a fresh process (peak RSS is per process): a 100 MB record, a 1 MiB limit."""
    path = write_big_file(tmp_path / f"rows.{fmt}", fmt, size=100 * 1024**2)
    script = textwrap.dedent(READER_PEAK.format(root=str(ROOT)))
    result = subprocess.run(
        [sys.executable, "-c", script, fmt, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    path.unlink()
    peak, grown, count, error = result.stdout.split(" ", 3)
    assert int(count) == 3 and "(BULK_MAX_RECORD_BYTES)" in error
    assert int(peak) < 8 * 1024**2, f"tracemalloc peak {int(peak) / 1024**2:.1f} MB"
    assert int(grown) < 32 * 1024**2, f"RSS grew by {int(grown) / 1024**2:.1f} MB"


def test_reading_in_small_pieces_gives_the_same_records(monkeypatch):
    """Quotes, escapes and brackets split across the reader's pieces (the skipping of long
    records follows them piece by piece)."""
    from dashboard.bulk import readers

    long = "y" * 150
    bodies = {
        "json": json.dumps(
            [{"a": 1}, {"b": ['"]}\\', {"c": long}]}, long, {"d": '\\"'}, {"e": [long]}, {}]
        ).encode(),
        "csv": (
            b'a,b\n1,"two\nlines"\n2,"'
            + b'q""\n' * 60
            + b'"\n3,"x""'
            + b"y" * 200
            + b'"",z"\n4,'
            + b"w" * 200
            + b'\n5,"6"\n'
        ),
        "ndjson": b'{"a": 1}\n' + json.dumps({"b": long}).encode() + b'\n\n{"c": 2}\n',
    }
    expected = {fmt: read(body, fmt) for fmt, body in bodies.items()}
    assert [len([r for r in expected[f] if r[2]]) for f in bodies] == [3, 3, 1]
    for size in (1, 2, 3, 7, 64):
        monkeypatch.setattr(readers, "READ_SIZE", size)
        for fmt, body in bodies.items():
            assert read(body, fmt) == expected[fmt], (fmt, size)


def test_a_chunk_ends_at_its_byte_budget(draft, run_jobs, tmp_path, monkeypatch, settings):
    """Records of up to the limit each: a chunk of 10,000 of them would hold gigabytes, so a
    chunk also ends once its records' text reaches CHUNK_BYTES."""
    from dashboard.bulk import engine

    settings.BULK_CHUNK_SIZE = 10_000
    monkeypatch.setattr(engine, "CHUNK_BYTES", 1000)
    sizes = []
    write = engine._Import.write

    def spy(self, converted):
        sizes.append(len(converted))
        return write(self, converted)

    monkeypatch.setattr(engine._Import, "write", spy)
    path = tmp_path / "rows.ndjson"
    path.write_text(
        "".join(
            json.dumps({"global_key": f"k{i}", "row_data": f"s3://{i}" + "p" * 279}) + "\n"
            for i in range(10)
        )
    )
    job, _ = run_import(draft, path, "ndjson", run_jobs)
    assert job.status == Job.Status.SUCCEEDED and job.counts["created"] == 10, (job.counts, sizes)
    assert sizes == [4, 4, 2]  # 4 records of 320 bytes reach 1,000
