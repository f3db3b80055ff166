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
