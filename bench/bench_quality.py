"""Benchmark: the quality reads at scale. Sets up BENCH_QUALITY_LABELS=1,000,000 labels (3 per
consensus row on three quarters of them, 1 per row on the rest) by 50 labelers over 30 days,
with review states, seconds, per-row and per-label agreement, gold scores and skips — COPY on
PostgreSQL, executemany on SQLite, into a throwaway database — then times each analytics and
agreement endpoint through the full Django stack (p50 / p95 / max of BENCH_QUALITY_RUNS=20
requests after 2 warm-ups). Goal: p95 ≤ 200 ms on PostgreSQL.

BENCH_QUALITY_ONLY=batches times only the batch reads (the batches list in the API, one batch,
and the project's batches page); the default, all, times everything.

BENCH_DATABASE_URL=postgres://…/name for PostgreSQL (see harness.py).
"""

import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from harness import bench_database, timed

LABELS = int(os.environ.get("BENCH_QUALITY_LABELS", "1000000"))
RUNS = int(os.environ.get("BENCH_QUALITY_RUNS", "20"))
ONLY = os.environ.get("BENCH_QUALITY_ONLY", "all")
LABELERS = 50
BATCH_ROWS = 50_000
GOLD_ROWS = 100  # the last rows: gold, their entries flagged and their labels scored
CHUNK = 50_000
NOW = datetime.now(UTC).replace(microsecond=0)
STATUSES = ["submitted"] * 70 + ["pending_review"] * 10 + ["accepted"] * 15 + ["rejected"] * 5


def plan(total_labels: int) -> tuple[int, int]:
    """(consensus rows with 3 labels, single rows): 3/4 of the labels on consensus rows."""
    consensus = (total_labels * 3 // 4) // 3
    return consensus, total_labels - 3 * consensus


def writer(connection, table: str, columns: list[str]):
    """A function writing a list of row tuples into `table`: COPY on PostgreSQL, executemany
    on SQLite."""
    cols = ", ".join(columns)
    if connection.vendor == "postgresql":

        def write(rows):
            with (
                connection.cursor() as cursor,
                cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)

    else:
        marks = ", ".join(["%s"] * len(columns))

        def write(rows):
            with connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)

    return write


def setup() -> dict:
    """Users, a project, batches, rows, queue entries, labels, skips, gold rows."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from batches.models import (
        AgreementBucket,
        Batch,
        BatchProgress,
        GoldRow,
        Label,
        LabelerHour,
        LabelerSeconds,
        Project,
        QueueEntry,
        Skip,
    )
    from batches.similarity import agreement as row_agreement
    from batches.similarity import similarity
    from dashboard.roles import Role, user_set_role
    from versions.models import DataRow, Dataset

    rng = random.Random(15)
    User = get_user_model()
    manager = User.objects.create(username="bench-manager", is_superuser=True)
    labelers = [User.objects.create(username=f"labeler{i:02d}") for i in range(LABELERS)]
    for user in labelers:
        user_set_role(user=user, role=Role.LABELER)
    project = Project.objects.create(
        name="bench quality", label_classes=["car", "person", "tree"], agreement_threshold=0.6
    )
    dataset = Dataset.objects.create(name="bench quality")
    consensus_rows, single_rows = plan(LABELS)
    total_rows = consensus_rows + single_rows
    batches = []
    for start in range(0, total_rows, BATCH_ROWS):
        consensus = start < consensus_rows
        batches.append(
            Batch.objects.create(
                project=project,
                name=f"batch{len(batches):04d}",
                size=min(BATCH_ROWS, total_rows - start),
                consensus_settings={"number_of_labels": 3, "coverage_percentage": 1}
                if consensus
                else None,
            )
        )
    db_now = connection.ops.adapt_datetimefield_value
    rows_w = writer(
        connection,
        DataRow._meta.db_table,
        ["id", "dataset_id", "global_key", "row_data", "created_at", "updated_at"],
    )
    queue_w = writer(
        connection,
        QueueEntry._meta.db_table,
        [
            "project_id",
            "batch_id",
            "data_row_id",
            "state",
            "sort_priority",
            "labels_required",
            "labels_count",
            "agreement",
            "escalated",
            "gold",
            "created_at",
        ],
    )
    label_w = writer(
        connection,
        Label._meta.db_table,
        [
            "project_id",
            "batch_id",
            "data_row_id",
            "author_id",
            "annotation",
            "status",
            "seconds",
            "agreement",
            "gold_score",
            "created_at",
        ],
    )
    classes = [["car"], ["person"], ["car", "person"], ["tree"]]

    def gold_score(annotation) -> float:
        return round(similarity(annotation, gold_answer), 4)

    span = 30 * 24 * 3600
    start_time = time.perf_counter()
    if connection.vendor == "postgresql":
        # A bulk load: the progress triggers are off while it runs, and the backfill
        # (`batch_progress_recount`, as the migration runs it) counts what it loaded.
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
    labels_written = 0
    gold_answer = {"classes": ["car"]}
    first_gold = max(0, total_rows - GOLD_ROWS)  # the last rows are gold (flagged, scored)
    for chunk_start in range(0, total_rows, CHUNK):
        rows, entries, labels = [], [], []
        for i in range(chunk_start, min(total_rows, chunk_start + CHUNK)):
            row_id = f"q{i:08d}"
            batch = batches[i // BATCH_ROWS]
            consensus = i < consensus_rows
            made = NOW - timedelta(seconds=rng.randrange(span))
            rows.append(
                (row_id, dataset.pk, f"gk-q{i:08d}", f"s3://q/{i}.jpg", db_now(made), db_now(made))
            )
            n = 3 if consensus else 1
            authors = rng.sample(labelers, n)
            annotations = [
                {"classes": rng.choice(classes[:2] if rng.random() < 0.7 else classes)}
                for _ in authors
            ]
            agreement = row_agreement(annotations) if consensus else None
            gold = i >= first_gold
            entries.append(
                (
                    project.pk,
                    batch.pk,
                    row_id,
                    "queued" if gold else "done",  # a gold row never becomes done
                    2**31,
                    n,
                    0 if gold else n,  # its labels come through gold servings, uncounted
                    agreement,
                    bool(agreement is not None and agreement < 0.6),
                    gold,
                    db_now(made),
                )
            )
            for author, annotation in zip(authors, annotations, strict=True):
                at = made + timedelta(seconds=rng.randrange(3600))
                labels.append(
                    (
                        project.pk,
                        batch.pk,
                        row_id,
                        author.pk,
                        json_text(annotation),
                        rng.choice(STATUSES),
                        round(rng.lognormvariate(3, 0.8), 2),
                        agreement if agreement is None else round(agreement, 4),
                        gold_score(annotation) if gold else None,
                        db_now(at),
                    )
                )
        with transaction.atomic():
            rows_w(rows)
            queue_w(entries)
            label_w(labels)
        labels_written += len(labels)
    skips = [
        (
            project.pk,
            f"q{rng.randrange(total_rows):08d}",
            rng.choice(labelers).pk,
            db_now(NOW - timedelta(seconds=rng.randrange(span))),
        )
        for _ in range(20_000)
    ]
    skip_w = writer(
        connection, Skip._meta.db_table, ["project_id", "data_row_id", "user_id", "created_at"]
    )
    seen, unique = set(), []
    for s in skips:
        if (s[1], s[2]) not in seen:
            seen.add((s[1], s[2]))
            unique.append(s)
    with transaction.atomic():
        skip_w(unique)
        GoldRow.objects.bulk_create(
            GoldRow(project=project, data_row_id=f"q{i:08d}", annotation=gold_answer)
            for i in range(first_gold, total_rows)
        )
    from batches.services.agreement import agreement_buckets_recount
    from batches.services.progress import batch_progress_recount

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("RESET session_replication_role")
    batch_progress_recount()

    for batch in batches:  # the kept agreement buckets, as the writes would have left them
        agreement_buckets_recount(batch=batch)
    from batches.services.rollups import rollups_rebuild

    rollup_start = time.perf_counter()
    rollups_rebuild(project_id=project.pk)  # the labeler rollups, as the writes would keep them
    rollup_seconds = time.perf_counter() - rollup_start
    load_seconds = time.perf_counter() - start_time
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (
                DataRow,
                QueueEntry,
                Label,
                Skip,
                AgreementBucket,
                LabelerHour,
                LabelerSeconds,
                BatchProgress,
            ):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"set up {labels_written} labels on {total_rows} rows ({consensus_rows} consensus rows), "
        f"{len(batches)} batches, {len(unique)} skips in {load_seconds:.1f} s "
        f"(of which {rollup_seconds:.1f} s counting the labeler rollups)"
    )
    return {"project": project, "manager": manager, "batch": batches[0]}


def json_text(value) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


def measure(client, path: str) -> dict:
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
    times = []
    for _ in range(RUNS):
        seconds, response = timed(lambda: client.get(path))
        assert response.status_code == 200
        times.append(seconds * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
    return {"p50": statistics.median(times), "p95": p95, "max": times[-1]}


def report(name: str, figures: dict) -> None:
    print(f"{name:34} {figures['p50']:8.1f} {figures['p95']:8.1f} {figures['max']:8.1f}")


def main() -> None:
    from django.conf import settings
    from django.db import connection
    from rest_framework.test import APIClient

    settings.ALLOWED_HOSTS = ["*"]
    with bench_database("quality"):
        data = setup()
        project, batch = data["project"], data["batch"]
        client = APIClient()
        client.force_authenticate(data["manager"])
        week_ago = (NOW - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
        api = f"/api/v1/projects/{project.pk}/"
        batch_paths = [
            ("batches list (with agreement)", f"{api}batches/"),
            ("one batch (with progress)", f"{api}batches/{batch.pk}/"),
        ]
        print(f"{'endpoint':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}   ({RUNS} requests)")
        page = APIClient()
        page.force_login(data["manager"])
        if ONLY == "batches":
            for name, path in batch_paths:
                report(name, measure(client, path))
            report("project batches page (HTML)", measure(page, f"/projects/{project.pk}/"))
            connection.close()
            return
        paths = [
            ("agreement (project)", f"{api}agreement/"),
            ("agreement (one batch)", f"{api}agreement/?batch_id={batch.pk}"),
            ("labelers (all time)", f"{api}analytics/labelers/"),
            ("labelers (last 7 days)", f"{api}analytics/labelers/?since={week_ago}"),
            ("labelers CSV (all time)", f"{api}analytics/labelers/?format=csv"),
            ("throughput by day (30 days)", f"{api}analytics/throughput/?bucket=day"),
            ("throughput by hour (2 days)", f"{api}analytics/throughput/?bucket=hour"),
            *batch_paths,
        ]
        for name, path in paths:
            figures = measure(client, path)
            print(f"{name:34} {figures['p50']:8.1f} {figures['p95']:8.1f} {figures['max']:8.1f}")
        project.agreement_threshold = 0.65  # not a bucket edge: one narrow index count
        project.save(update_fields=["agreement_threshold"])
        figures = measure(client, f"{api}agreement/")
        print(
            f"{'agreement (project, threshold .65)':34} {figures['p50']:8.1f} "
            f"{figures['p95']:8.1f} {figures['max']:8.1f}"
        )
        figures = measure(client, f"{api}agreement/?batch_id={batch.pk}")
        print(
            f"{'agreement (batch, threshold .65)':34} {figures['p50']:8.1f} "
            f"{figures['p95']:8.1f} {figures['max']:8.1f}"
        )
        report("project batches page (HTML)", measure(page, f"/projects/{project.pk}/"))
        figures = measure(page, f"/projects/{project.pk}/analytics/")
        print(
            f"{'analytics page (HTML)':34} {figures['p50']:8.1f} {figures['p95']:8.1f} "
            f"{figures['max']:8.1f}"
        )
        connection.close()


if __name__ == "__main__":
    main()
