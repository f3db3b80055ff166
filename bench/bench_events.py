"""Benchmark: the event log and the webhook outbox, on loopback only.

0. Labeling: labels/s submitted (next + submit, through the services and through the REST API)
   with 0 and with 3 webhooks subscribed to `label.submitted`, rounds alternated: what the
   webhooks cost the labelers (the goal: within 10%).
1. Recording: events/s written by `event_record` in their own transactions with 0 and with 3
   webhooks subscribed: the cost webhooks add to the change (a fan-out mark, a debounced wake-up
   of the workers after the commit).
2. Fanning out (the workers): events/s turned into deliveries (one per webhook) and send tasks.
3. Delivering: events/s the outbox delivers (claim, signed POST, outcome) to a receiver on
   127.0.0.1, by 1 and by 4 concurrent senders (the workers).

Bounded: BENCH_EVENTS=2000 events per figure, at most BENCH_SECONDS=30 each; BENCH_LABELS=600
labels per labeling round, BENCH_ROUNDS=3 rounds of each.
BENCH_DATABASE_URL for PostgreSQL (see harness.py); BENCH_SYNC_COMMIT=off there measures without
waiting for the WAL flush at each commit (a busy shared disk otherwise dominates every figure).
"""

import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import bench_database

EVENTS = int(os.environ.get("BENCH_EVENTS", "2000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
LABELS = int(os.environ.get("BENCH_LABELS", "600"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


class Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.end_headers()


def receiver() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def labeling_setup():
    """A project whose one batch holds every round's rows; a labeler with an API token."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from batches.services import batch_create, project_create
    from dashboard.roles import Role, user_set_role
    from versions.models import DataRow
    from versions.services import dataset_create

    rows = LABELS * ROUNDS * 4 + 10
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


def label_with_services(project, user, n: int) -> tuple[int, float, float]:
    from batches.services import label_submit, queue_next

    start, cpu, done = time.perf_counter(), time.process_time(), 0
    while done < n and time.perf_counter() - start < SECONDS:
        entry = queue_next(project=project, user=user)
        label_submit(project=project, entry_id=entry.pk, user=user, annotation={"ok": 1})
        done += 1
    return done, time.perf_counter() - start, time.process_time() - cpu


def label_with_api(project, token: str, n: int) -> tuple[int, float, float]:
    from rest_framework.test import APIClient

    client = APIClient(SERVER_NAME="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    base = f"/api/v1/projects/{project.pk}/queue/"
    start, cpu, done = time.perf_counter(), time.process_time(), 0
    while done < n and time.perf_counter() - start < SECONDS:
        answer = client.post(base + "next/")
        assert answer.status_code == 200, answer.content
        entry = answer.json()["entry"]
        answer = client.post(f"{base}{entry}/submit/", {"annotation": {"ok": 1}}, format="json")
        assert answer.status_code == 201, answer.content
        done += 1
    return done, time.perf_counter() - start, time.process_time() - cpu


def labeling(url: str) -> None:
    """Rounds alternated (0, 3, 3, 0, 0, 3 …) so drift (growing tables, a busy machine) hits
    both alike; the medians are printed."""
    from dashboard.models import Webhook
    from dashboard.webhooks import webhook_create, webhook_delete

    project, user, token = labeling_setup()
    for door, run in (
        ("services", lambda: label_with_services(project, user, LABELS)),
        ("REST API", lambda: label_with_api(project, token, LABELS)),
    ):
        rates: dict[int, list[float]] = {0: [], 3: []}
        cpu_rates: dict[int, list[float]] = {0: [], 3: []}
        for round_ in range(ROUNDS):
            for hooks in (0, 3) if round_ % 2 == 0 else (3, 0):
                for webhook in Webhook.objects.all():
                    webhook_delete(webhook=webhook)
                for _ in range(hooks):
                    webhook_create(url=url, events=["label.submitted"])
                n, seconds, cpu = run()
                rates[hooks].append(n / seconds)
                cpu_rates[hooks].append(n / cpu)
        for what, figures in (("wall", rates), ("CPU of this process", cpu_rates)):
            base, hooked = (sorted(figures[h])[len(figures[h]) // 2] for h in (0, 3))
            print(
                f"label via {door:8}, no webhooks: {base:7.0f} labels/s · 3 webhooks: "
                f"{hooked:7.0f} labels/s ({100 * (hooked / base - 1):+.1f}%; {what}; medians "
                f"of {ROUNDS} rounds of {LABELS})"
            )
    for webhook in Webhook.objects.all():
        webhook_delete(webhook=webhook)


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
        server = receiver()
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        labeling(url)
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
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
