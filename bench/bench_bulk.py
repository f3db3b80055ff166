"""Benchmark the bulk engine on data rows: figures printed, nothing asserted.

- import N NDJSON data rows (create) as a job: rows/s, peak RSS
- PostgreSQL only: `psql \\copy` of the same rows into the same tables (data rows, revisions,
  entries), with the ratio (goal: the import ≥ 0.5× its speed)
- a per-row ORM `create()` loop over a sample (BENCH_ORM_SAMPLE, default 20,000): per-row time
  and the ratio (goal: the import ≥ 50× faster per row)
- upsert N rows with 10 % changed; sync N rows (1 % missing, 1 % new)
- export N rows as NDJSON, streamed, in a forked child: rows/s and its peak RSS (goal flat,
  under 200 MB)

Sizes: BENCH_BULK_ROWS (default 100,000; the issue's figure is 1,000,000).
PostgreSQL: BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/labelops_bulk_bench
"""

import json
import os
import subprocess
import tempfile
import time

from harness import bench_database, in_child, peak_rss_mb, timed

ROWS = int(os.environ.get("BENCH_BULK_ROWS", "100000"))
ORM_SAMPLE = int(os.environ.get("BENCH_ORM_SAMPLE", "20000"))


def row(i: int, *, changed: bool = False) -> dict:
    return {
        "global_key": f"gk-{i:08d}",
        "row_data": f"s3://bench/img/{i:08d}.jpg",
        "metadata": {"split": "train" if i % 5 else "val", "n": i, "v": 2 if changed else 1},
    }


def write_ndjson(path: str, indices) -> None:
    with open(path, "w") as out:
        for i in indices:
            changed = False
            if isinstance(i, tuple):
                i, changed = i
            out.write(json.dumps(row(i, changed=changed)) + "\n")


def run_import(version, path: str, mode: str):
    from dashboard.models import Job
    from versions.bulk.start import rows_import_start

    job = rows_import_start(
        version=version, record_type="data_rows", local_path=path, format="ndjson", mode=mode
    )
    job = Job.objects.get(pk=job.pk)
    assert job.status == Job.Status.SUCCEEDED, (job.status, job.error)
    return job


def timed_with_cpu(fn):
    """(seconds, this process's CPU seconds, value) of calling fn(): on a shared machine the CPU
    time shows the work itself (on SQLite all of it; PostgreSQL's share runs in the server)."""
    cpu = time.process_time()
    seconds, value = timed(fn)
    return seconds, time.process_time() - cpu, value


def report(label: str, seconds: float, n: int, job=None, cpu: float | None = None) -> None:
    counts = ""
    if job is not None:
        counts = " " + ", ".join(f"{k} {v}" for k, v in job.counts.items() if v)
    used = f" (this process's CPU {cpu:.1f} s)" if cpu is not None else ""
    print(
        f"{label}: {n:,} rows in {seconds:.1f} s{used} = {n / seconds:,.0f} rows/s;"
        f" peak RSS so far {peak_rss_mb():.0f} MB;{counts}"
    )


def psql_copy(tmp: str, dataset_id: str, version_id: str) -> float:
    """\\copy the same N rows (data rows, revisions, entries) with psql; seconds."""
    from django.db import connection

    from versions.frames import content_hash, frame_id_for_uri

    settings = connection.settings_dict
    files = {name: os.path.join(tmp, f"{name}.csv") for name in ("rows", "revs")}
    import csv

    now = "2025-01-01 00:00:00+00"
    with (
        open(files["rows"], "w", newline="") as rows_out,
        open(files["revs"], "w", newline="") as revs_out,
    ):
        rows_csv, revs_csv = csv.writer(rows_out), csv.writer(revs_out)
        for i in range(ROWS):
            r = row(i)
            uri = r["row_data"]
            row_id = frame_id_for_uri(dataset_id=dataset_id, uri=uri)
            content = {
                "sources": [{"id": "default", "uri": uri}],
                "meta": r["metadata"],
                "rois": [],
                "attachments": [],
            }
            rows_csv.writerow([row_id, dataset_id, "copy-" + r["global_key"], uri, now, now])
            revs_csv.writerow(
                [row_id, json.dumps(content), content_hash(content), f"\n{uri}\n", now]
            )
    script = (
        f"\\copy versions_datarow (id, dataset_id, global_key, row_data, created_at, updated_at)"
        f" FROM '{files['rows']}' CSV\n"
        f"\\copy versions_framerevision (data_row_id, content, content_hash, source_uris,"
        f" created_at) FROM '{files['revs']}' CSV\n"
        f"INSERT INTO versions_frameentry (version_id, data_row_id, revision_id)"
        f" SELECT '{version_id}', data_row_id, id FROM versions_framerevision r"
        " WHERE data_row_id IN (SELECT id FROM versions_datarow"
        f" WHERE dataset_id = '{dataset_id}');\n"
    )
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    command = [
        "psql", "-q", "-v", "ON_ERROR_STOP=1",
        "-h", settings.get("HOST") or "127.0.0.1",
        "-p", str(settings.get("PORT") or 5432),
        "-U", settings.get("USER") or "postgres",
        "-d", settings["NAME"],
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, input=script, text=True, check=True, env=env)
    return time.perf_counter() - start


def orm_loop(version, n: int) -> float:
    """Per-row ORM create() of data row, revision and entry; seconds for n rows."""
    from django.db import transaction

    from versions.frames import content_hash, frame_id_for_uri
    from versions.models import DataRow, FrameEntry, FrameRevision

    start = time.perf_counter()
    for i in range(n):
        r = row(10_000_000 + i)
        content = {
            "sources": [{"id": "default", "uri": r["row_data"]}],
            "meta": r["metadata"],
            "rois": [],
            "attachments": [],
        }
        with transaction.atomic():
            data_row = DataRow.objects.create(
                id=frame_id_for_uri(dataset_id=version.dataset_id, uri=r["row_data"]),
                dataset_id=version.dataset_id,
                global_key=r["global_key"],
                row_data=r["row_data"],
            )
            revision = FrameRevision.objects.create(
                data_row=data_row,
                content=content,
                content_hash=content_hash(content),
                source_uris=f"\n{r['row_data']}\n",
            )
            FrameEntry.objects.create(version=version, data_row=data_row, revision=revision)
    return time.perf_counter() - start


def export_in_child(version_id: str) -> None:
    """Export in a forked child so its peak RSS is its own."""

    def run():
        from dashboard.bulk.export import export_stream
        from versions.bulk.export import export_records
        from versions.models import DatasetVersion

        version = DatasetVersion.objects.get(pk=version_id)
        n = 0
        with open(os.devnull, "w") as sink:
            records = export_records(version, shape="data_rows")
            for piece in export_stream(
                records,
                fmt="ndjson",
                fields=["id", "global_key", "row_data", "metadata", "attachments"],
            ):
                n += piece.count("\n")
                sink.write(piece)
        return n

    seconds, n, start_rss, child_peak = in_child(run)
    print(
        f"export NDJSON (streamed, forked child): {n:,} rows in {seconds:.1f} s ="
        f" {n / seconds:,.0f} rows/s; child peak RSS {child_peak:.0f} MB"
        f" (at fork {start_rss:.0f} MB, growth {child_peak - start_rss:.0f} MB)"
    )


def main() -> None:
    from django.db import connection

    from versions.services import dataset_create, version_create

    with bench_database("bulk"), tempfile.TemporaryDirectory() as tmp:
        print(f"rows: {ROWS:,}; ORM sample: {ORM_SAMPLE:,}")
        dataset = dataset_create(name="bulk")[0]
        draft = version_create(dataset=dataset, name="draft")[0]
        create_file = os.path.join(tmp, "create.ndjson")
        write_ndjson(create_file, range(ROWS))
        print(f"file: {os.path.getsize(create_file) / 1e6:.0f} MB NDJSON")

        seconds, cpu, job = timed_with_cpu(lambda: run_import(draft, create_file, "create"))
        report("import create", seconds, ROWS, job, cpu)
        import_rate = ROWS / seconds

        if connection.vendor == "postgresql":
            other = dataset_create(name="copy")[0]
            other_draft = version_create(dataset=other, name="draft")[0]
            copy_seconds = psql_copy(tmp, other.pk, other_draft.pk)
            print(
                f"psql \\copy of the same rows (3 tables): {copy_seconds:.1f} s ="
                f" {ROWS / copy_seconds:,.0f} rows/s; import/copy speed ="
                f" {import_rate / (ROWS / copy_seconds):.2f}x (goal >= 0.5)"
            )

        sample = min(ORM_SAMPLE, ROWS)
        orm_dataset = dataset_create(name="orm")[0]
        orm_draft = version_create(dataset=orm_dataset, name="draft")[0]
        orm_seconds = orm_loop(orm_draft, sample)
        per_row_orm = orm_seconds / sample
        per_row_import = 1 / import_rate
        print(
            f"ORM create() loop: {sample:,} rows in {orm_seconds:.1f} s ="
            f" {per_row_orm * 1e6:,.0f} us/row; import {per_row_import * 1e6:,.1f} us/row ="
            f" {per_row_orm / per_row_import:.0f}x faster (goal >= 50)"
        )

        upsert_file = os.path.join(tmp, "upsert.ndjson")
        write_ndjson(upsert_file, ((i, i % 10 == 0) for i in range(ROWS)))
        seconds, cpu, job = timed_with_cpu(lambda: run_import(draft, upsert_file, "upsert"))
        report("upsert, 10% changed", seconds, ROWS, job, cpu)

        sync_file = os.path.join(tmp, "sync.ndjson")
        write_ndjson(
            sync_file,
            [(i, i % 10 == 0) for i in range(ROWS) if i % 100 != 1]
            + [(ROWS + i, False) for i in range(ROWS // 100)],
        )
        seconds, cpu, job = timed_with_cpu(lambda: run_import(draft, sync_file, "sync"))
        report("sync, 1% gone, 1% new", seconds, ROWS, job, cpu)

        export_in_child(draft.pk)


if __name__ == "__main__":
    main()
