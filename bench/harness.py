"""Shared set-up for benchmarks: Django on a throwaway database, and a timer.

SQLite by default (/tmp), PostgreSQL with BENCH_DATABASE_URL=postgres://…/name (a test_ copy of
that database is created and dropped).
"""

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if os.environ.get("BENCH_DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

import django  # noqa: E402

django.setup()


@contextmanager
def bench_database(label: str):
    """Create a throwaway database, run the benchmark in it, drop it."""
    from django.db import connection
    from django_q.conf import Conf

    if connection.vendor == "sqlite":
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"/tmp/labelops-{label}.sqlite3"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    Conf.SYNC = True  # jobs run in this process: we time our code, not the broker
    print(f"== {label} on {connection.vendor} ({name})")
    try:
        yield
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


def timed(fn):
    """(seconds, value) of calling fn()."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_child(fn):
    """Run fn() in a forked child, so its peak RSS is its own and nothing (tracemalloc, say)
    slows it down. Returns (seconds, fn's JSON-able value, RSS at the fork in MB, peak RSS)."""
    import json

    from django.db import connection

    connection.close()  # the child opens its own connection
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        start_rss = peak_rss_mb()
        seconds, value = timed(fn)
        os.write(write_end, json.dumps([seconds, value, start_rss, peak_rss_mb()]).encode())
        os._exit(0)
    os.close(write_end)
    data = b""
    while chunk := os.read(read_end, 4096):
        data += chunk
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if not data:
        raise RuntimeError(f"the benchmark's child process failed (status {status})")
    return tuple(json.loads(data))
