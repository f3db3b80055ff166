"""Benchmark: create_batches of N rows (and the ratio to one raw INSERT … SELECT of the same
queue rows), next+submit throughput and p50/p99 latency with L concurrent labelers, and the
NDJSON export (rows/s, peak Python memory).

BENCH_BATCH_ROWS=100000, BENCH_LABELERS=32, BENCH_SERVE_SECONDS=10 by default (the issue's
figures use BENCH_BATCH_ROWS=1000000); BENCH_DATABASE_URL for PostgreSQL (see harness.py).
"""

import os
import statistics
import time
import tracemalloc

from harness import bench_database, timed

ROWS = int(os.environ.get("BENCH_BATCH_ROWS", "100000"))
LABELERS = int(os.environ.get("BENCH_LABELERS", "32"))
SERVE_SECONDS = float(os.environ.get("BENCH_SERVE_SECONDS", "10"))


def make_rows(n: int):
    from versions.models import DataRow, Dataset

    dataset = Dataset.objects.create(name="bench")
    for start in range(0, n, 20_000):
        DataRow.objects.bulk_create(
            [
                DataRow(
                    id=f"b{i:08d}",
                    dataset=dataset,
                    global_key=f"gk{i:08d}",
                    row_data=f"s3://bench/{i}.jpg",
                )
                for i in range(start, min(n, start + 20_000))
            ]
        )
    return dataset


def bench_create(dataset, user):
    from django.db import connection, transaction

    from batches.models import Batch, QueueEntry
    from batches.services import batches_create, project_create
    from dashboard.models import Job

    project = project_create(name="bench", reservation_seconds=600)
    keys = [f"gk{i:08d}" for i in range(ROWS)]

    def run():
        with transaction.atomic():
            job = batches_create(
                project=project,
                name_prefix="bench-",
                global_keys=keys,
                consensus_settings={"number_of_labels": 2, "coverage_percentage": 0.1},
                user=user,
            )
        return Job.objects.get(pk=job.pk)

    create_s, job = timed(run)
    assert job.status == "succeeded", (job.status, job.error)
    batches = Batch.objects.filter(project=project).count()
    # The floor: one raw INSERT … SELECT of the same rows into a scratch project.
    scratch = project_create(name="raw")
    batch = Batch.objects.create(project=scratch, name="raw")
    table = QueueEntry._meta.db_table

    def raw():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (project_id, batch_id, data_row_id, state, sort_priority, "
                "labels_required, labels_count, created_at) SELECT %s, %s, id, 'queued', "
                "2147483648, 1, 0, CURRENT_TIMESTAMP FROM versions_datarow WHERE dataset_id = %s",
                [scratch.pk, batch.pk, dataset.pk],
            )

    raw_s, _ = timed(raw)
    QueueEntry.objects.filter(project=scratch).delete()
    print(
        f"create_batches {ROWS:,} rows → {batches} batches: {create_s:.2f} s "
        f"({ROWS / create_s:,.0f} rows/s); raw INSERT … SELECT {raw_s:.2f} s; "
        f"ratio {create_s / raw_s:.1f}×"
    )
    return project


def _labeler(args):
    """One labeler in its own process (no shared GIL): next + submit until time or rows end."""
    project_id, user_id, stop_at = args
    from django.contrib.auth import get_user_model
    from django.db import connection

    from batches.models import Project
    from batches.services import label_submit, queue_next

    project = Project.objects.get(pk=project_id)
    user = get_user_model().objects.get(pk=user_id)
    both, nexts, errors = [], [], []
    try:
        while time.time() < stop_at:
            t0 = time.perf_counter()
            entry = queue_next(project=project, user=user)
            t1 = time.perf_counter()
            if entry is None:
                break
            label_submit(project=project, entry_id=entry.pk, user=user, annotation={"ok": 1})
            both.append(time.perf_counter() - t0)
            nexts.append(t1 - t0)
    except Exception as exc:  # noqa: BLE001 - reported below
        errors.append(repr(exc))
    finally:
        connection.close()
    return both, nexts, errors


def bench_serve(project):
    import multiprocessing

    from django.contrib.auth import get_user_model
    from django.db import connections

    users = [get_user_model().objects.create(username=f"bench{i}") for i in range(LABELERS)]
    connections.close_all()  # children open their own connections after the fork
    start_at = time.time() + 1.0
    stop_at = start_at + SERVE_SECONDS
    with multiprocessing.get_context("fork").Pool(LABELERS) as pool:
        results = pool.map(_labeler, [(project.pk, u.pk, stop_at) for u in users])
    elapsed = min(SERVE_SECONDS, time.time() - start_at)
    latencies = [x for both, _, _ in results for x in both]
    next_lat = [x for _, nexts, _ in results for x in nexts]
    errors = [e for _, _, errs in results for e in errs]
    q = statistics.quantiles(latencies, n=100)
    qn = statistics.quantiles(next_lat, n=100)
    print(
        f"serve with {LABELERS} labeler processes on a {ROWS:,}-row queue: {len(latencies):,} "
        f"next+submit in {elapsed:.1f} s = {len(latencies) / elapsed:,.0f}/s; "
        f"next+submit p50 {q[49] * 1000:.1f} ms p99 {q[98] * 1000:.1f} ms; "
        f"next alone p50 {qn[49] * 1000:.1f} ms p99 {qn[98] * 1000:.1f} ms"
        + (f"; errors {errors[:3]}" if errors else "")
    )


def bench_export(project):
    from batches.export import export_lines, export_options

    options = export_options(project=project, labels=True, data_row_details=True)
    tracemalloc.start()

    def run():
        n = 0
        size = 0
        for line in export_lines(options):
            n += 1
            size += len(line)
        return n, size

    export_s, (n, size) = timed(run)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"export NDJSON {n:,} rows ({size / 2**20:.0f} MB): {export_s:.1f} s = "
        f"{n / export_s:,.0f} rows/s; peak Python memory {peak / 2**20:.1f} MB"
    )


def main() -> None:
    from django.contrib.auth import get_user_model

    with bench_database("batches"):
        user = get_user_model().objects.create(username="bench-manager")
        dataset = make_rows(ROWS)
        project = bench_create(dataset, user)
        bench_serve(project)
        bench_export(project)


if __name__ == "__main__":
    main()
