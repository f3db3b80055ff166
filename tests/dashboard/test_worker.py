"""Jobs on a real django-q2 worker process (qcluster) sharing the test database."""

import os
import subprocess
import time

import pytest
from django.db import connection
from django_q.conf import Conf

from dashboard.jobs.services import job_cancel, job_create
from dashboard.models import Job
from dashboard.processes import database_url, manage_py_start, process_group_stop
from versions.services import dataset_create, frames_add, version_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_database_url() -> str:
    return database_url()


test_database_url.__test__ = False  # a helper, not a test


@pytest.fixture
def start_worker(monkeypatch, tmp_path):
    """Start a real qcluster on the test database; stopped (and killed if it hangs) after."""
    monkeypatch.setattr(Conf, "SYNC", False)
    workers = []

    def start():
        env = {**os.environ, "DATABASE_URL": test_database_url(), "Q_WORKERS": "1"}
        log = open(tmp_path / f"qcluster-{len(workers)}.log", "wb")
        workers.append(manage_py_start(["qcluster"], env=env, stdout=log, stderr=subprocess.STDOUT))
        return workers[-1]

    yield start
    for worker in workers:
        process_group_stop(worker, grace=5)


def wait_for(job, *, timeout=60.0):
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        seen.append(job.progress_done)
        if job.is_ended:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"job {job.pk} still {job.status} after {timeout}s: {job.__dict__}")


def test_a_job_runs_to_the_end_on_a_real_worker_and_a_cancelled_one_never_runs(start_worker):
    dataset, _ = dataset_create(name="worker-test")
    version, _ = version_create(dataset=dataset, name="v")
    frames_add(
        version=version,
        frames=[
            {
                "id": f"f{i:05d}",
                "sources": [{"uri": f"s3://b/{i}.jpg"}],
                "rois": [{"label": ["car"]}],
            }
            for i in range(2000)
        ],
    )
    cancelled = job_create(kind="recount_stats", params={"version_id": version.pk})
    job_cancel(job=cancelled)
    job = job_create(kind="recount_stats", params={"version_id": version.pk})
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED

    start_worker()
    seen = wait_for(job)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.progress_done, job.progress_total) == (2000, 2000)
    assert seen == sorted(seen)  # progress only goes up
    assert job.attempts == 1 and job.started_at and job.finished_at
    version.refresh_from_db()
    assert version.stats["frame_count"] == 2000
    assert version.stats["label_counts"] == {"car": 2000}
    cancelled.refresh_from_db()
    assert cancelled.status == Job.Status.CANCELLED and cancelled.attempts == 0


def test_labels_submitted_in_a_burst_reach_three_webhooks_once_each(start_worker, monkeypatch):
    """The request only marks its event; a real worker woken after the commit (once for the
    burst: debounced) fans each event out to the 3 webhooks and sends it, signed, once."""
    from batches.models import Project
    from batches.services import batch_create, label_submit, queue_next
    from dashboard import webhooks_outbox
    from dashboard.models import Delivery, Event
    from dashboard.roles import Role
    from dashboard.webhooks import webhook_create
    from versions.models import DataRow

    from ..factories import DatasetFactory, UserFactory
    from .receiver import Receiver

    monkeypatch.setattr(webhooks_outbox, "_last_kick", 0.0)
    receiver = Receiver("r" * 32)
    try:
        hooks = [
            webhook_create(url=receiver.url, events=["label.submitted"], secret="r" * 32)
            for _ in range(3)
        ]
        dataset = DatasetFactory()
        DataRow.objects.bulk_create(
            DataRow(id=f"w-{i}", dataset=dataset, global_key=f"w{i}") for i in range(20)
        )
        project = Project.objects.create(name="burst")
        batch_create(project=project, name="b", data_rows=[f"w-{i}" for i in range(20)])
        labeler = UserFactory(role=Role.LABELER)
        start_worker()
        for _ in range(20):
            entry = queue_next(project=project, user=labeler)
            label_submit(project=project, entry_id=entry.pk, user=labeler, annotation={})
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(receiver.requests) < 60:
            time.sleep(0.1)
        assert len(receiver.requests) == 60, len(receiver.requests)
        assert not Event.objects.filter(fanout=True).exists()
        ids = [r["headers"]["X-Labelops-Delivery"] for r in receiver.requests]
        assert len(set(ids)) == 60 and all(r["signed"] for r in receiver.requests)
        pairs = set(Delivery.objects.values_list("event_id", "webhook_id"))
        submitted = Event.objects.filter(type="label.submitted").values_list("id", flat=True)
        assert pairs == {(e, h.pk) for e in submitted for h in hooks}
        time.sleep(1.5)  # nothing more arrives
        assert len(receiver.requests) == 60
    finally:
        receiver.close()
        connection.close()


@pytest.mark.parametrize("door", ["event", "ping"])
def test_a_failed_delivery_is_tried_again_at_its_time_not_at_the_next_sweep(
    start_worker, monkeypatch, door
):
    """WEBHOOK_RETRY_SECONDS=1: a receiver answering 500 twice gets the same delivery again
    after ~1 s, then ~2 s (doubling), and the third attempt delivers it: the webhook's sender
    waits for a retry due within RETRY_HOLD (the sweeper runs about once a minute)."""
    from dashboard import webhooks_outbox
    from dashboard.events import event_record
    from dashboard.models import Delivery
    from dashboard.webhooks import webhook_create, webhook_test

    from .receiver import Receiver

    monkeypatch.setattr(webhooks_outbox, "_last_kick", 0.0)
    monkeypatch.setenv("WEBHOOK_RETRY_SECONDS", "1")
    receiver = Receiver("s" * 32)
    receiver.plan = [500, 500]
    arrived = []
    receiver_post = receiver.server.RequestHandlerClass.do_POST

    def timed_post(handler):
        arrived.append(time.monotonic())
        receiver_post(handler)

    monkeypatch.setattr(receiver.server.RequestHandlerClass, "do_POST", timed_post)
    try:
        hook = webhook_create(url=receiver.url, events=["ping"], secret="s" * 32)
        start_worker()
        if door == "ping":
            webhook_test(webhook=hook)
        else:
            event_record(type="ping", object_type="webhook", object_id=hook.pk)
        deadline = time.monotonic() + 40  # a sweep-bound retry would come 30–90 s later
        while time.monotonic() < deadline and len(receiver.requests) < 3:
            time.sleep(0.05)
        assert len(receiver.requests) == 3, len(receiver.requests)
        ids = {r["headers"]["X-Labelops-Delivery"] for r in receiver.requests}
        assert len(ids) == 1 and all(r["signed"] for r in receiver.requests)
        gaps = [later - earlier for earlier, later in zip(arrived, arrived[1:], strict=False)]
        assert 0.9 <= gaps[0] <= 2.5 and 1.9 <= gaps[1] <= 3.5, gaps
        deadline = time.monotonic() + 10
        while Delivery.objects.get().status != "succeeded" and time.monotonic() < deadline:
            time.sleep(0.05)
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.response_status) == (
            "succeeded",
            3,
            200,
        )
    finally:
        receiver.close()
        connection.close()
