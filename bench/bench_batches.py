"""Benchmark: create_batches of N rows (and the ratio to one raw INSERT … SELECT of the same
queue rows), next+submit throughput and p50/p99 latency with L concurrent labelers, and the
NDJSON export (rows/s, peak RSS of the process that streams it).

BENCH_BATCH_ROWS=100000, BENCH_LABELERS=32, BENCH_SERVE_SECONDS=10 by default (the issue's
figures use BENCH_BATCH_ROWS=1000000); BENCH_DATABASE_URL for PostgreSQL (see harness.py).
"""

import os
import statistics
import time

from harness import bench_database, in_child, timed

ROWS = int(os.environ.get("BENCH_BATCH_ROWS", "100000"))
LABELERS = int(os.environ.get("BENCH_LABELERS", "32"))
SERVE_SECONDS = float(os.environ.get("BENCH_SERVE_SECONDS", "10"))
PACED_RATES = [float(r) for r in os.environ.get("BENCH_PACED_RATES", "500,1000").split(",") if r]


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


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a local process (a PostgreSQL backend), or None if unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return None
    idle = ticks[3] + ticks[4]
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


def _backend_pid(connection) -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _labeler(args):
    """One labeler in its own process (no shared GIL): next + submit until time or rows end.

    Closed loop (interval 0): the next call starts when the previous one returns. Paced (open
    loop): call k is due at start + offset + k × interval and its latency counts from then, so
    time spent waiting behind a slow call is measured, not hidden."""
    project_id, user_id, start_at, stop_at, interval, offset = args
    from django.contrib.auth import get_user_model
    from django.db import connection

    from batches.models import Project
    from batches.services import label_submit, queue_next

    project = Project.objects.get(pk=project_id)
    user = get_user_model().objects.get(pk=user_id)
    backend = _backend_pid(connection)
    pairs, nexts, submits, errors, emptied = [], [], [], [], False
    due = time.perf_counter() + (start_at - time.time()) + offset
    time.sleep(max(0.0, start_at - time.time()))
    cpu0, backend0 = time.process_time(), backend and _cpu_seconds(backend)
    try:
        while time.time() < stop_at:
            if interval:
                time.sleep(max(0.0, due - time.perf_counter()))
                started = due
                due += interval
            else:
                started = time.perf_counter()
            t0 = time.perf_counter()
            entry = queue_next(project=project, user=user)
            t1 = time.perf_counter()
            if entry is None:
                emptied = True
                break
            label_submit(project=project, entry_id=entry.pk, user=user, annotation={"ok": 1})
            t2 = time.perf_counter()
            pairs.append(t2 - started)
            nexts.append(t1 - t0)
            submits.append(t2 - t1)
    except Exception as exc:  # noqa: BLE001 - reported below
        errors.append(repr(exc))
    finished = time.time()
    cpu = time.process_time() - cpu0
    backend_cpu = backend and (_cpu_seconds(backend) or 0) - backend0
    connection.close()
    return {
        "pairs": pairs,
        "nexts": nexts,
        "submits": submits,
        "errors": errors,
        "python_cpu": cpu,
        "backend_cpu": backend_cpu,
        "finished": finished,
        "emptied": emptied,
    }


_SERIES = ("pairs", "nexts", "submits", "errors")


def _ms(values: list[float], q: int) -> str:
    if len(values) < 2:
        return "n/a"
    return f"{statistics.quantiles(values, n=100)[q - 1] * 1000:.1f}"


def _serve(project, users, rate: float | None) -> dict:
    """Run the labelers for SERVE_SECONDS, closed loop (rate None) or paced to `rate`/s in
    all; returns the figures."""
    import multiprocessing

    from django.db import connections

    _vacuum_queue()
    checkpoints = _checkpoints()
    connections.close_all()  # children open their own connections after the fork
    n = len(users)
    interval = n / rate if rate else 0.0
    start_at = time.time() + 1.5  # every child connected and waiting
    stop_at = start_at + SERVE_SECONDS
    jobs = [
        (project.pk, u.pk, start_at, stop_at, interval, i / rate if rate else 0.0)
        for i, u in enumerate(users)
    ]
    with multiprocessing.get_context("fork").Pool(n) as pool:
        pending = pool.map_async(_labeler, jobs)
        time.sleep(max(0.0, start_at - time.time()))
        machine0 = _machine_busy()
        results = pending.get()
        machine1 = _machine_busy()
    figures = {key: [x for r in results for x in r[key]] for key in _SERIES}
    figures["python_cpu"] = sum(r["python_cpu"] for r in results)
    backend = [r["backend_cpu"] for r in results]
    figures["backend_cpu"] = None if None in backend else sum(backend)
    figures["elapsed"] = min(SERVE_SECONDS, max(r["finished"] for r in results) - start_at)
    figures["emptied"] = any(r["emptied"] for r in results)
    if machine0 and machine1:
        figures["machine_busy"] = machine1[0] - machine0[0]
        figures["machine_total"] = machine1[1] - machine0[1]
    if checkpoints is not None:
        figures["checkpoints"] = _checkpoints() - checkpoints
    figures["offered"] = rate
    return figures


def _vacuum_queue() -> None:
    """Every run starts from a vacuumed queue table (dead index entries of the rows served
    before would otherwise pile up at the head of the serving index, run after run)."""
    from django.db import connection

    from batches.models import QueueEntry

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {QueueEntry._meta.db_table}")


def _checkpoints() -> int | None:
    """PostgreSQL checkpoints so far (other databases' CREATE/DROP DATABASE force some)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")
        return cursor.fetchone()[0]


def _report(title: str, figures: dict) -> None:
    pairs, done = figures["pairs"], len(figures["pairs"])
    rate = done / figures["elapsed"]
    per_op = 1000 / max(done, 1)
    cpu_ms = figures["python_cpu"] * per_op
    cpu = f"python {cpu_ms:.2f} ms"
    if figures["backend_cpu"] is not None:
        cpu_ms += figures["backend_cpu"] * per_op
        cpu += f" + postgres {figures['backend_cpu'] * per_op:.2f} ms"
    lines = [
        f"  {title}: {done:,} next+submit in {figures['elapsed']:.1f} s = {rate:,.0f}/s"
        + (" (the queue ran out)" if figures["emptied"] else "")
        + (
            ""
            if not figures["offered"] or rate >= 0.95 * figures["offered"] or figures["emptied"]
            else f" — NOT sustained (offered {figures['offered']:,.0f}/s)"
        ),
        f"    next+submit p50 {_ms(pairs, 50)} ms  p90 {_ms(pairs, 90)} ms  p99 {_ms(pairs, 99)} "
        f"ms  max {max(pairs, default=0) * 1000:.1f} ms"
        + ("  (from each call's scheduled start)" if figures["offered"] else ""),
        f"    next alone p50 {_ms(figures['nexts'], 50)} p99 {_ms(figures['nexts'], 99)} ms; "
        f"submit alone p50 {_ms(figures['submits'], 50)} p99 {_ms(figures['submits'], 99)} ms",
    ]
    if not figures["offered"] and done:
        lines.append(
            f"    Little's law: {LABELERS} busy labelers / {rate:,.0f}/s = "
            f"{LABELERS / rate * 1000:.1f} ms mean latency (measured mean "
            f"{statistics.fmean(pairs) * 1000:.1f} ms)"
        )
    busy = ""
    if "machine_busy" in figures:
        ours = figures["python_cpu"] + (figures["backend_cpu"] or 0)
        busy = (
            f"; machine {100 * figures['machine_busy'] / figures['machine_total']:.0f} % busy, "
            f"{100 * ours / max(figures['machine_busy'], 1e-9):.0f} % of that this benchmark"
        )
    lines.append(f"    CPU per next+submit: {cpu} = {cpu_ms:.2f} ms{busy}")
    if figures["backend_cpu"] is not None:
        lines.append(
            f"    → CPU-bound ceiling of this machine for this workload: {os.cpu_count()} "
            f"CPUs / {cpu_ms:.2f} ms = {os.cpu_count() * 1000 / cpu_ms:,.0f}/s"
        )
    if figures.get("checkpoints"):
        lines.append(f"    PostgreSQL checkpoints during the run: {figures['checkpoints']}")
    if figures["errors"]:
        lines.append(f"    errors {figures['errors'][:3]}")
    print("\n".join(lines))


def _on_the_wire(call):
    """(round trips, result) of call(): PostgreSQL's ReadyForQuery messages in a libpq trace,
    one per client request answered (BEGIN and COMMIT included)."""
    import tempfile

    from django.db import connection
    from psycopg import pq

    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            result = call()
        finally:
            pgconn.untrace()
        trace.seek(0)
        trips = sum(1 for line in trace if line.split("\t")[2:3] == ["ReadyForQuery"])
    return trips, result


def _round_trips(project, user) -> str:
    from django.db import connection

    from batches.services import label_submit, queue_next

    if connection.vendor != "postgresql":
        return "round trips: none (SQLite runs in-process)"

    def submit(entry):
        return label_submit(project=project, entry_id=entry.pk, user=user, annotation={"ok": 1})

    for _ in range(2):  # a warm connection, as in the runs: its statements are prepared
        submit(queue_next(project=project, user=user))
    next_trips, entry = _on_the_wire(lambda: queue_next(project=project, user=user))
    submit_trips, _ = _on_the_wire(lambda: submit(entry))
    return f"round trips to PostgreSQL: next {next_trips}, submit {submit_trips}"


def _autovacuum() -> str:
    from django.db import connection

    if connection.vendor != "postgresql":
        return ""
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        return f"; PostgreSQL autovacuum {cursor.fetchone()[0]}, the queue vacuumed before each run"


def bench_serve(project):
    """(a) Saturation: LABELERS closed-loop labelers with zero think time — by Little's law
    their mean latency is LABELERS / throughput. (b) Paced: the same labelers offered a fixed
    total rate (BENCH_PACED_RATES), open loop, latency from each call's scheduled start."""
    from django.contrib.auth import get_user_model

    users = [get_user_model().objects.create(username=f"bench{i}") for i in range(LABELERS)]
    print(
        f"serve on a {ROWS:,}-row queue: {LABELERS} labeler processes calling the services "
        f"(no HTTP), {SERVE_SECONDS:.0f} s per run, {os.cpu_count()} CPUs shared by the "
        f"labelers, the database and whatever else runs on this machine{_autovacuum()}"
    )
    print("  " + _round_trips(project, get_user_model().objects.create(username="bench-trips")))
    _report("(a) saturation, closed loop, no think time", _serve(project, users, None))
    for rate in PACED_RATES:
        _report(f"(b) paced at {rate:,.0f}/s, open loop", _serve(project, users, rate))


def bench_export(project):
    from batches.export import export_lines, export_options

    options = export_options(project=project, labels=True, data_row_details=True)

    def run():
        n = size = 0
        for line in export_lines(options):
            n += 1
            size += len(line)
        return n, size

    export_s, (n, size), start_rss, peak = in_child(run)
    print(
        f"export NDJSON {n:,} rows ({size / 2**20:.0f} MB), streamed in a forked child: "
        f"{export_s:.1f} s = {n / export_s:,.0f} rows/s; peak RSS {peak:.0f} MB "
        f"(at the fork {start_rss:.0f} MB, growth {peak - start_rss:.0f} MB)"
    )


def main() -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model

    settings.DEBUG = False  # time what production runs: no query log on every cursor

    with bench_database("batches"):
        user = get_user_model().objects.create(username="bench-manager")
        dataset = make_rows(ROWS)
        project = bench_create(dataset, user)
        bench_serve(project)
        bench_export(project)


if __name__ == "__main__":
    main()
