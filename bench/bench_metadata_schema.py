"""Benchmark what a dataset's metadata schema costs the bulk import: figures printed, nothing
asserted.

The same CSV of N data rows with five `metadata.<key>` columns (integer, number, boolean,
datetime, enum cells) is imported (create) into a dataset without a schema (free-form cells,
read as JSON values) and into one whose schema types all five (converted by type, plus two
defaults filled); then the in-Python part alone (`FrameWriter.content` per record), which is
where the schema's work happens. The schema is compiled once per import.

Sizes: BENCH_SCHEMA_ROWS (default 50,000).
PostgreSQL: BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/labelops_schema_bench
"""

import os
import tempfile
import time

from harness import bench_database, timed

ROWS = int(os.environ.get("BENCH_SCHEMA_ROWS", "50000"))
SCHEMA = [
    {"name": "age", "type": "integer", "required": True},
    {"name": "score", "type": "number"},
    {"name": "active", "type": "boolean"},
    {"name": "seen", "type": "datetime"},
    {"name": "split", "type": "enum", "options": ["train", "val", "test"]},
    {"name": "status", "type": "string", "default": "pending"},
    {"name": "priority", "type": "integer", "default": 1},
]
HEADER = "global_key,row_data,metadata.age,metadata.score,metadata.active,metadata.seen,"
HEADER += "metadata.split\n"


def write_csv(path: str, prefix: str) -> None:
    with open(path, "w") as out:
        out.write(HEADER)
        for i in range(ROWS):
            out.write(
                f"{prefix}-{i:08d},s3://bench/{prefix}/{i:08d}.jpg,{20 + i % 50},{i / 7:.3f},"
                f"{'true' if i % 2 else 'false'},2024-05-{1 + i % 28:02d}T12:00:00Z,"
                f"{('train', 'val', 'test')[i % 3]}\n"
            )


def run(label: str, schema: list) -> None:
    from dashboard.models import Job
    from versions.bulk.start import rows_import_start
    from versions.services import dataset_create, dataset_set_metadata_schema, version_create

    dataset = dataset_create(name=f"bench-{label}")[0]
    dataset_set_metadata_schema(dataset=dataset, fields=schema)
    version = version_create(dataset=dataset, name="draft")[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "rows.csv")
        write_csv(path, label)
        cpu = time.process_time()
        seconds, job = timed(
            lambda: rows_import_start(
                version=version, record_type="data_rows", local_path=path, mode="create"
            )
        )
        cpu = time.process_time() - cpu
    job = Job.objects.get(pk=job.pk)
    assert job.status == Job.Status.SUCCEEDED and job.counts["created"] == ROWS, job.counts
    print(
        f"import, {label}: {ROWS:,} CSV rows in {seconds:.1f} s (this process's CPU {cpu:.1f} s)"
        f" = {ROWS / seconds:,.0f} rows/s"
    )


def content_only(label: str, schema: list) -> None:
    """The per-record Python work alone: convert + content (+ schema) for N records."""
    from dashboard.bulk.records import convert_record
    from versions.bulk.records import DATA_ROWS, FrameWriter
    from versions.metadata_schema import MetadataSchema

    writer = FrameWriter({"version_id": "x"}, shape="data_rows")
    writer._dataset_id = "x"
    writer._schema = MetadataSchema(schema)
    raws = [
        {
            "global_key": f"k{i}",
            "row_data": f"s3://b/{i}.jpg",
            "metadata.age": str(20 + i % 50),
            "metadata.score": f"{i / 7:.3f}",
            "metadata.active": "true",
            "metadata.seen": "2024-05-01T12:00:00Z",
            "metadata.split": "val",
        }
        for i in range(ROWS)
    ]
    start = time.perf_counter()
    for raw in raws:
        writer.content(convert_record(DATA_ROWS, raw, from_text=True, unknown="reject"), None)
    seconds = time.perf_counter() - start
    print(f"convert + content, {label}: {ROWS / seconds:,.0f} records/s ({seconds:.2f} s)")


if __name__ == "__main__":
    with bench_database("metadata_schema"):
        run("free-form", [])
        run("typed", SCHEMA)
        content_only("free-form", [])
        content_only("typed", SCHEMA)
