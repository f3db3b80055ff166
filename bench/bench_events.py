"""Benchmark: the event log and the webhook outbox, on loopback only.

1. Recording: events/s written by `event_record` in their own transactions (with their outbox
   rows and broker tasks) with 0 and with 3 webhooks subscribed: the cost webhooks add to the
   change that records the event.
2. Delivering: events/s the outbox delivers (claim, signed POST, outcome) to a receiver on
   127.0.0.1, by 1 and by 4 concurrent senders (the workers).

Bounded: BENCH_EVENTS=2000 events per figure, at most BENCH_SECONDS=30 each.
BENCH_DATABASE_URL for PostgreSQL (see harness.py).
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
    from django.db import connection
    from django_q.conf import Conf

    from dashboard.models import Delivery
    from dashboard.webhooks import webhook_create

    with bench_database("events"):
        Conf.SYNC = False  # tasks go to the (database) broker, as in production
        server = receiver()
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
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
