"""manage.py serve (what `make run` starts): web server and worker up together, and both
stopped together by Ctrl-C (SIGINT)."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from dashboard.processes import manage_py_start

from .test_worker import test_database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid,ppid"], capture_output=True, text=True).stdout
    return [int(p) for p, pp in (line.split() for line in out.splitlines()[1:]) if int(pp) == pid]


def test_serve_runs_web_and_worker_and_ctrl_c_stops_both(tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": test_database_url()}
    log = open(tmp_path / "serve.log", "wb")
    serve = manage_py_start(
        ["serve", f"127.0.0.1:{port}"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        status, deadline = None, time.monotonic() + 30
        while time.monotonic() < deadline and status is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
                status = 200
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        assert status == 200, (tmp_path / "serve.log").read_text()
        kids = children_of(serve.pid)
        assert len(kids) == 2  # runserver and qcluster
        os.kill(serve.pid, signal.SIGINT)
        serve.wait(timeout=30)
        time.sleep(0.5)
        for pid in kids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
