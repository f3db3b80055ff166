"""Benchmark: the event log and the webhook outbox, on loopback only.

0. Labeling: labels/s a labeler submits through the REST API (`next` + `submit` over HTTP to
   Django's threaded server) while a real qcluster (2 workers) delivers to a receiver on
   127.0.0.1, with 0 (A) and 3 (B) webhooks subscribed to `label.submitted`: short rounds
   interleaved A B B A … (noise on a shared machine hits both alike), the median and spread of
   each, the B/A ratio of adjacent rounds with a 95% bootstrap interval (the goal: within
   10%), and the CPU per label of the web process, the workers and the database server. Then
   the outbox end to end: events/s the workers deliver to the receiver.
1. Recording: events/s written by `event_record` in their own transactions with 0 and with 3
   webhooks subscribed: the cost webhooks add to the change (a fan-out mark, a debounced wake-up
   of the workers after the commit).
2. Fanning out (the workers): events/s turned into deliveries (one per webhook) and send tasks.
3. Delivering: events/s the outbox delivers (claim, signed POST, outcome) to a receiver on
   127.0.0.1, by 1 and by 4 concurrent senders (the workers).

Bounded: BENCH_EVENTS=2000 events per figure, at most BENCH_SECONDS=30 each; BENCH_PAIRS=8
pairs of labeling rounds of BENCH_ROUND_SECONDS=4 s.
BENCH_DATABASE_URL for PostgreSQL (see harness.py); BENCH_SYNC_COMMIT=off there measures without
waiting for the WAL flush at each commit (a busy shared disk otherwise dominates every figure).
"""

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import bench_database

EVENTS = int(os.environ.get("BENCH_EVENTS", "2000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
ROUND_SECONDS = float(os.environ.get("BENCH_ROUND_SECONDS", "4"))
PAIRS = int(os.environ.get("BENCH_PAIRS", "8"))


class Ok(BaseHTTPRequestHandler):
    """Answers 204 to every POST, keeping the connection open (HTTP/1.1, as a production
    receiver behind any ordinary web server does; BENCH_RECEIVER_HTTP=1.0 closes it after each
    one), and counts what it is sent in `received`, shared with the bench process."""

    protocol_version = "HTTP/" + os.environ.get("BENCH_RECEIVER_HTTP", "1.1")
    received = None  # a multiprocessing.Value, set by `Receiver`

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.end_headers()
        with self.received.get_lock():
            self.received.value += 1


class Receiver:
    """The local receiver, in a process of its own: on a shared machine its threads would
    otherwise take the bench process's GIL from the labeler (in production the receiver is
    another machine altogether)."""

    def __init__(self):
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self.count = context.Value("q", 0)
        ready = context.Queue()
        self.process = context.Process(target=self.serve, args=(ready,), daemon=True)
        self.process.start()
        self.port = ready.get(timeout=30)
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def serve(self, ready) -> None:
        Ok.received = self.count
        server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
        server.daemon_threads = True
        ready.put(server.server_address[1])
        server.serve_forever()

    @property
    def received(self) -> int:
        return self.count.value

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)


def labeling_setup():
    """A project whose one batch holds every round's rows; a labeler with an API token."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from batches.services import batch_create, project_create
    from dashboard.roles import Role, user_set_role
    from versions.models import DataRow
    from versions.services import dataset_create

    rows = int(2 * PAIRS * ROUND_SECONDS * 300) + 1000
    dataset, _ = dataset_create(name="bench labels")
    DataRow.objects.bulk_create(
        (
            DataRow(id=f"r{i:07d}", dataset=dataset, global_key=f"k{i}", row_data="s3://x")
            for i in range(rows)
        ),
        batch_size=5000,
    )
    project = project_create(name="bench labels")
    ids = [f"r{i:07d}" for i in range(rows)]
    for start in range(0, rows, 100_000):
        batch_create(project=project, name=f"b{start}", data_rows=ids[start : start + 100_000])
    user = get_user_model().objects.create_user("bench-labeler")
    user_set_role(user=user, role=Role.LABELER)
    token = Token.objects.create(user=user)
    return project, user, token.key


def proc_cpu(pids) -> dict[int, float]:
    """CPU seconds (user + system, with waited-for children) used so far by each of `pids`."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = sum(int(v) for v in fields[11:15]) / tick
    return used


def cpu_since(before: dict[int, float], pids) -> float:
    """CPU seconds `pids` used since `before` (a process new since then: all of its time)."""
    return sum(t - before.get(pid, 0.0) for pid, t in proc_cpu(pids).items())


def group_pids(pgid: int) -> list[int]:
    """The processes of a process group (qcluster and its worker processes)."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                pids.append(int(name))
    return pids


def db_backend_pids() -> list[int]:
    """PostgreSQL: the server processes of the bench database but this process's own (none on
    SQLite, where the database is inside the web and worker processes)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Labeler:
    """A labeler speaking HTTP to the web server: POST next, POST submit (keep-alive)."""

    def __init__(self, port: int, project_id: str, token: str):
        import http.client

        self.connect = lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn = self.connect()
        self.base = f"/api/v1/projects/{project_id}/queue/"
        self.headers = {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Host": "localhost",
        }

    def post(self, path: str, body: bytes, expect: int) -> dict:
        import json

        for attempt in (1, 2):
            try:
                self.conn.request("POST", self.base + path, body=body, headers=self.headers)
                answer = self.conn.getresponse()
                data = answer.read()
                break
            except (OSError, Exception):
                self.conn.close()
                self.conn = self.connect()
                if attempt == 2:
                    raise
        if answer.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = self.connect()
        assert answer.status == expect, (answer.status, data[:300])
        return json.loads(data)

    def label_for(self, seconds: float) -> int:
        """next + submit for `seconds`; the number of labels submitted."""
        deadline, done = time.perf_counter() + seconds, 0
        while time.perf_counter() < deadline:
            entry = self.post("next/", b"{}", 200)["entry"]
            self.post(f"{entry}/submit/", b'{"annotation": {"ok": 1}}', 201)
            done += 1
        return done


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def bootstrap_ci(values, statistic=median, n: int = 4000, seed: int = 17):
    """The 95% bootstrap interval of `statistic` over `values`."""
    import random

    rng = random.Random(seed)
    stats = sorted(statistic(rng.choices(values, k=len(values))) for _ in range(n))
    return stats[int(0.025 * n)], stats[int(0.975 * n) - 1]


def outbox_drained(timeout: float) -> tuple[float, int]:
    """Wait until every event is fanned out and every delivery ended; (seconds, left)."""
    from dashboard.models import Delivery, Event

    start = time.perf_counter()
    while True:
        left = Event.objects.filter(fanout=True).count()
        left += Delivery.objects.filter(status="pending").count()
        if not left or time.perf_counter() - start > timeout:
            return time.perf_counter() - start, left
        time.sleep(0.05)


def labeling(receiving: Receiver) -> None:
    """Labels/s through the REST API (next + submit over HTTP to Django's threaded server), with a
    real qcluster (2 workers) delivering to a local receiver during the run; rounds of
    ROUND_SECONDS with 3 webhooks on (B) and off (A), interleaved A B B A …, PAIRS pairs."""
    from django.db import connection

    from dashboard.models import Delivery
    from dashboard.processes import database_url, manage_py_start, process_group_stop
    from dashboard.webhooks import webhook_create, webhook_update

    project, user, token = labeling_setup()
    hooks = [
        webhook_create(url=receiving.url, events=["label.submitted"], active=False)
        for _ in range(3)
    ]
    port = free_port()
    # Connections kept (as README recommends for production): the database server's
    # processes are then the same through a round and their CPU can be read.
    env = {**os.environ, "DATABASE_URL": database_url(), "Q_WORKERS": "2", "CONN_MAX_AGE": "60"}
    if os.environ.get("BENCH_SYNC_COMMIT") == "off":
        env["PGOPTIONS"] = "-c synchronous_commit=off"
    env.pop("BENCH_DATABASE_URL", None)
    # Their logs (warnings and errors only): /tmp/labelops-bench-{web,workers}.log
    env["LOG_LEVEL"] = "WARNING"
    web_log = open("/tmp/labelops-bench-web.log", "wb")
    workers_log = open("/tmp/labelops-bench-workers.log", "wb")
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)],
        env=env,
        stdout=web_log,
        stderr=subprocess.STDOUT,
    )
    workers = manage_py_start(["qcluster"], env=env, stdout=workers_log, stderr=subprocess.STDOUT)
    connection.close()
    try:
        labeler = Labeler(port, project.pk, token)
        for _ in range(200):  # the server is up, and warm
            try:
                labeler.label_for(0.5)
                break
            except OSError:
                time.sleep(0.1)
        outbox_drained(30)
        plan = ["A", "B", "B", "A"] * (PAIRS // 2) + (["A", "B"] if PAIRS % 2 else [])
        results = {"A": [], "B": []}
        for which in plan:
            for hook in hooks:
                webhook_update(webhook=hook, active=which == "B")
            time.sleep(1.2)  # the web process's subscriptions are cached for a second
            outbox_drained(60)
            sent_before = receiving.received
            pids = {
                "web": lambda: [server.pid],
                "workers": lambda: group_pids(workers.pid),
                "database": db_backend_pids,
            }
            cpu = {k: proc_cpu(v()) for k, v in pids.items()}
            connection.close()
            start = time.perf_counter()
            done = labeler.label_for(ROUND_SECONDS)
            seconds = time.perf_counter() - start
            cpu_label = {k: cpu_since(cpu[k], v()) for k, v in pids.items()}
            # What the workers still owe for this round's labels: its time and CPU are the
            # webhooks' cost too (charged to this round's CPU, not to its labels/s).
            drain, left = outbox_drained(60)
            cpu_all = {k: cpu_since(cpu[k], v()) for k, v in pids.items()}
            results[which].append(
                {
                    "rate": done / seconds,
                    "labels": done,
                    "cpu_during": cpu_label,
                    "cpu_all": cpu_all,
                    "drain": drain,
                    "left": left,
                    "delivered": receiving.received - sent_before,
                }
            )
            connection.close()
        report_labeling(results)
        failed = Delivery.objects.exclude(status="succeeded").count()
        print(f"  deliveries not succeeded at the end: {failed}")
        outbox_end_to_end(hooks, receiving)
    finally:
        server.terminate()
        server.wait()
        process_group_stop(workers, grace=5)


def outbox_end_to_end(hooks, receiving: Receiver) -> None:
    """The real workers' delivery rate: EVENTS events recorded (3 webhooks on) as fast as this
    process can, timed from the first until the receiver has every delivery."""
    from django.db import transaction

    from dashboard.events import event_record
    from dashboard.webhooks import webhook_update

    for hook in hooks:
        webhook_update(webhook=hook, active=True)
    received = receiving.received
    start, done = time.perf_counter(), 0
    while done < EVENTS and time.perf_counter() - start < SECONDS:
        with transaction.atomic():
            event_record(type="label.submitted", object_type="label", object_id=str(done))
        done += 1
    recorded = time.perf_counter() - start
    drain, left = outbox_drained(120)
    seconds = time.perf_counter() - start
    got = receiving.received - received
    print(
        f"outbox end to end (qcluster, 2 workers): {done} events ({got} deliveries) recorded in "
        f"{recorded:.1f} s, all delivered after {seconds:.1f} s: {done / seconds:.0f} events/s, "
        f"{got / seconds:.0f} deliveries/s (left: {left})"
    )
    for hook in hooks:
        webhook_update(webhook=hook, active=False)


def report_labeling(results) -> None:
    a, b = results["A"], results["B"]
    n = len(a)
    print(
        "label via REST (HTTP, Django's threaded server; qcluster 2 workers; receiver on "
        f"127.0.0.1): {n} rounds of {ROUND_SECONDS:g} s each way, interleaved A B B A …"
    )
    for name, rounds in (("no webhooks (A)", a), ("3 webhooks  (B)", b)):
        rates = [r["rate"] for r in rounds]
        print(
            f"  {name}: median {median(rates):6.1f} labels/s (min {min(rates):.1f}, "
            f"max {max(rates):.1f}; {sum(r['labels'] for r in rounds)} labels)"
        )
    ratios = [rb["rate"] / ra["rate"] for ra, rb in zip(a, b, strict=True)]  # A and B of one pair
    low, high = bootstrap_ci(ratios)
    print(
        f"  B/A per adjacent pair: median {median(ratios):.3f} (95% CI {low:.3f}–{high:.3f}; "
        f"min {min(ratios):.3f}, max {max(ratios):.3f}) → {100 * (median(ratios) - 1):+.1f}%"
    )
    ra = [r["rate"] for r in a]
    rb = [r["rate"] for r in b]
    low, high = bootstrap_ci(
        list(range(n)), lambda idx: median([rb[i] for i in idx]) / median([ra[i] for i in idx])
    )
    print(f"  median(B)/median(A): {median(rb) / median(ra):.3f} (95% CI {low:.3f}–{high:.3f})")
    for key, what in (("cpu_during", "while labeling"), ("cpu_all", "incl. the outbox drain")):
        for name, rounds in (("A", a), ("B", b)):
            parts = {
                k: 1000 * sum(r[key][k] for r in rounds) / sum(r["labels"] for r in rounds)
                for k in rounds[0][key]
            }
            total = sum(parts.values())
            detail = ", ".join(f"{k} {v:.1f}" for k, v in parts.items())
            print(f"  CPU ms per label {what:22} {name}: {total:5.1f} ({detail})")
    drains = [r["drain"] for r in b]
    delivered = sum(r["delivered"] for r in b)
    per_label = delivered / sum(r["labels"] for r in b)
    print(
        f"  B rounds: {delivered} deliveries received ({per_label:.2f} per label); outbox "
        f"drained {median(drains):.2f} s (median; max {max(drains):.2f} s) "
        f"after a round; left undrained: {sum(r['left'] for r in b)}"
    )


def record(n: int) -> tuple[int, float]:
    """Record up to n events (one transaction each); (count, seconds)."""
    from django.db import transaction

    from dashboard.events import event_record

    start, done = time.perf_counter(), 0
    while done < n and time.perf_counter() - start < SECONDS:
        with transaction.atomic():
            event_record(type="label.submitted", object_type="label", object_id=str(done))
        done += 1
    return done, time.perf_counter() - start


def deliver(ids: list[str], senders: int) -> tuple[int, float]:
    from django.db import connection

    from dashboard.webhooks_outbox import delivery_send

    deadline = time.perf_counter() + SECONDS

    def send(delivery_id):
        try:
            if time.perf_counter() < deadline:
                return delivery_send(delivery_id)
        finally:
            connection.close()  # each pool thread's own connection

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        results = list(pool.map(send, ids))
    return sum(r == "succeeded" for r in results), time.perf_counter() - start


def main() -> None:
    import logging

    logging.getLogger("django-q").setLevel(logging.WARNING)  # "Enqueued …" per task
    from django.db import connection
    from django_q.conf import Conf

    from dashboard.models import Delivery, Event
    from dashboard.webhooks import webhook_create
    from dashboard.webhooks_outbox import events_fan_out_once

    if os.environ.get("BENCH_SYNC_COMMIT") == "off":
        # PostgreSQL without waiting for the WAL flush at each commit: on a machine whose disk
        # is shared (and busy), the figures then measure our statements, not the fsync queue.
        from django.db.backends.signals import connection_created

        def no_flush_wait(sender, connection, **kwargs):
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET synchronous_commit TO off")

        connection_created.connect(no_flush_wait)
    with bench_database("events"):
        Conf.SYNC = False  # tasks go to the (database) broker, as in production
        if os.environ.get("BENCH_SYNC_COMMIT") == "off":
            print("(PostgreSQL: synchronous_commit off)")
        receiving = Receiver()
        url = receiving.url
        labeling(receiving)
        Delivery.objects.all().delete()
        Event.objects.update(fanout=False)
        n, seconds = record(EVENTS)
        base = n / seconds
        print(f"record, no webhooks:      {base:8.0f} events/s ({n} in {seconds:.1f} s)")
        for _ in range(3):
            webhook_create(url=url, events=["label.submitted"])
        n, seconds = record(EVENTS)
        hooked = n / seconds
        print(
            f"record, 3 webhooks:       {hooked:8.0f} events/s ({n} in {seconds:.1f} s; "
            f"{100 * (hooked / base - 1):+.0f}%)"
        )
        start, fanned = time.perf_counter(), 0
        while done := events_fan_out_once():  # the workers' part: deliveries written, sends queued
            fanned += done
        seconds = time.perf_counter() - start
        print(
            f"fan out to 3 webhooks:    {fanned / seconds:8.0f} events/s "
            f"({3 * fanned / seconds:.0f} deliveries/s; {fanned} events in {seconds:.1f} s)"
        )
        pending = list(
            Delivery.objects.filter(status="pending").order_by("id").values_list("id", flat=True)
        )
        if connection.vendor == "sqlite":
            senders_list = [1]  # SQLite: one writer at a time
        else:
            senders_list = [1, 4]
        offset = 0
        for senders in senders_list:
            batch = pending[offset : offset + EVENTS]
            offset += len(batch)
            n, seconds = deliver(batch, senders)
            print(
                f"deliver, {senders} sender(s):     {n / seconds:8.0f} events/s "
                f"({n} delivered in {seconds:.1f} s)"
            )
        receiving.stop()


def serve(port: int) -> None:
    """The web process of the labeling rounds: Django's development server (threaded) with
    Nagle's algorithm off, as production servers have it (otherwise each small answer waits
    for the client's delayed ACK: ~40 ms a request)."""
    from django.core.servers import basehttp
    from django.core.wsgi import get_wsgi_application

    basehttp.WSGIRequestHandler.disable_nagle_algorithm = True
    basehttp.run("127.0.0.1", port, get_wsgi_application(), threading=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        sys.exit(serve(int(sys.argv[2])))
    sys.exit(main())
