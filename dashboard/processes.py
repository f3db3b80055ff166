"""Starting and stopping child processes (web server, qcluster) as a group.

django-q2's qcluster can hang on SIGTERM (upstream issue #346: its signal handler may deadlock),
so a stop is SIGTERM to the child's whole process group, a grace period, then SIGKILL. Jobs are
resumable, so a killed worker loses nothing (see dashboard.jobs.runner).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent


def manage_py_start(
    args: list[str], *, env: dict[str, str] | None = None, stdout=None, stderr=None
) -> subprocess.Popen:
    """Start `manage.py <args>` in a new process group."""
    return subprocess.Popen(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        cwd=BASE_DIR,
        env=env,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
    )


def process_group_stop(process: subprocess.Popen, *, grace: float = 10.0) -> int:
    """SIGTERM the process group, wait up to `grace` seconds, then SIGKILL it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=grace)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # leftovers: qcluster's own children
    except ProcessLookupError:
        pass
    return process.wait()


def database_url() -> str:
    """The URL of this process's default database, for a child process (DATABASE_URL)."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = quote(s["USER"] or "")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
