"""A real qcluster that the tests can SIGKILL, and the clock of django-q2's redelivery."""

import os
import signal
import subprocess
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ

from dashboard.models import Job
from dashboard.processes import manage_py_start, process_group_stop

from ..dashboard.test_worker import test_database_url


class Cluster:
    """Starts qclusters on the test database (and the test's MEDIA_ROOT); kills them whole."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def start(self, **overrides: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "Q_WORKERS": "1",
            "Q_MAX_ATTEMPTS": "10",
            # Long enough for any job here to finish in one delivery; the tests fast-forward
            # redelivery instead of waiting `retry` seconds (see `redeliver_now`).
            "JOB_TIMEOUT": "600",
            "Q_RETRY": "660",
            **overrides,
        }
        log = open(self.log_dir / f"qcluster-{len(self.started)}.log", "wb")
        self.started.append(
            manage_py_start(["qcluster"], env=env, stdout=log, stderr=subprocess.STDOUT)
        )
        return self.started[-1]

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the whole cluster (sentinel, workers, monitor) at once, mid-job."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for process in self.started:
            process_group_stop(process, grace=3)


@pytest.fixture
def cluster(monkeypatch, tmp_path):
    monkeypatch.setattr(Conf, "SYNC", False)
    c = Cluster(tmp_path)
    yield c
    c.stop_all()


def redeliver_now() -> int:
    """Move django-q2's delivery stamps back past `retry`, as if that much time had passed:
    the next cluster hands the unacknowledged task out again at once."""
    past = timezone.now() - timedelta(seconds=Conf.RETRY + 60)
    return OrmQ.objects.update(lock=past)


def wait_job(job: Job, condition, *, timeout: float) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if condition(job):
            return job
        time.sleep(0.02)
    raise AssertionError(
        f"timed out: {job.status} {job.progress_done}/{job.progress_total} {job.error}"
    )
