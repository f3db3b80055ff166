"""A real qcluster is SIGKILLed in the middle of a job, at several points, and started again:
the job resumes from its last committed chunk and ends with exactly the right rows — nothing
lost, nothing done twice, no half-written row. Redelivery is fast-forwarded (`redeliver_now`)
instead of waiting django-q2's `retry` seconds. Under both brokers: the database one hands the
task out again, with Redis the sweeper (`jobs_resume`) enqueues the job again. A webhook
delivery killed mid-send is sent again, with the same delivery id, under both brokers too."""

import json
import os
import time
import zlib
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_q.conf import Conf

from batches import jobs as batch_jobs
from batches.models import Batch, Label, QueueEntry
from batches.services import (
    MAX_BATCH_ROWS,
    batch_create,
    batch_delete_labels,
    batches_create,
    project_create,
)
from dashboard.events import event_record
from dashboard.jobs.resume import jobs_resume
from dashboard.jobs.services import job_retry
from dashboard.models import Delivery, Event, Job, JobError
from dashboard.roles import Role
from dashboard.webhooks import webhook_create
from dashboard.webhooks_outbox import deliveries_sweep
from versions.bulk.start import rows_import_start
from versions.models import DataRow, FrameEntry, FrameRevision
from versions.services import dataset_create, version_create

from ..dashboard.receiver import Receiver
from ..factories import DatasetFactory, UserFactory
from .conftest import redeliver_now, wait_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

LABELS = 12_000  # three chunks of batches.jobs.DELETE_LABELS_CHUNK
IMPORT_ROWS = int(os.environ.get("KILL_TEST_IMPORT_ROWS", "200000"))
BATCH_ROWS = MAX_BATCH_ROWS + MAX_BATCH_ROWS // 2  # two batches: 100,000 and 50,000


def redis_url() -> str:
    """Redis on this machine, one database per test database (`TEST_REDIS_DB` to choose)."""
    name = settings.DATABASES["default"]["NAME"]
    number = os.environ.get("TEST_REDIS_DB") or str(1 + zlib.crc32(str(name).encode()) % 15)
    return f"redis://127.0.0.1:6379/{number}"


@pytest.fixture(params=["database", "redis"])
def broker(request, monkeypatch) -> dict[str, str]:
    """The qcluster's environment for each broker; this process enqueues to the same one.
    Without Redis: a failure in CI, a skip elsewhere."""
    if request.param == "database":
        yield {}
        return
    import redis

    url = redis_url()
    try:
        client = redis.from_url(url, socket_connect_timeout=2)
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {url}: {exc}")
        pytest.skip(f"Redis is not reachable at {url}")
    queue = f"django_q:{Conf.CLUSTER_NAME}:q"
    client.delete(queue)  # nothing left from an earlier run
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", url)
    yield {"Q_BROKER": url}
    client.delete(queue)


def redis_settled(broker: dict, *, timeout: float = 10) -> None:
    """Wait until Redis has seen the killed cluster's connections close: a BLPOP still
    registered for a dead client would take the next task into the void. (In production the
    sweeper enqueues such a job again after another `retry`; here we wait instead.)"""
    if not broker:
        return
    import redis

    client = redis.from_url(broker["Q_BROKER"])
    db = str(client.connection_pool.connection_kwargs.get("db", 0))
    deadline = time.monotonic() + timeout
    while any(c.get("cmd") == "blpop" and c.get("db") == db for c in client.client_list()):
        assert time.monotonic() < deadline, "a dead cluster still blocks on the queue"
        time.sleep(0.05)


def resume_now(broker: dict) -> int:
    """Fast-forward the redelivery of a killed job's task: the database broker's stamps, or,
    with Redis, the sweeper's (`jobs_resume`) after `retry` seconds without a sign of life."""
    if not broker:
        return redeliver_now()
    redis_settled(broker)
    past = timezone.now() - timedelta(seconds=settings.Q_CLUSTER["retry"] + 1)
    Job.objects.exclude(status__in=Job.ENDED).update(updated_at=past)
    return jobs_resume()


def kill_and_restart(cluster, process, job, when, *, delay=0.0, timeout=120, broker=None, **env):
    """Wait until `when(job)` and `delay` seconds more, SIGKILL the cluster, check the job is
    still running and start a new cluster that gets the task again. Returns (new process,
    progress at the kill)."""
    wait_job(job, lambda j: j.status == "running" and when(j), timeout=timeout)
    time.sleep(delay)
    cluster.kill(process)
    job.refresh_from_db()
    assert job.status == "running", (job.status, job.error)
    killed_at = job.progress_done
    assert resume_now(broker or {}) == 1
    return cluster.start(**(broker or {}), **env), killed_at


def finish(job, *, timeout=300) -> Job:
    job = wait_job(job, lambda j: j.status in Job.ENDED, timeout=timeout)
    assert job.status == "succeeded", job.error
    return job


def test_delete_labels_killed_past_its_attempts_fails_then_runs_again(cluster, broker):
    """With two deliveries allowed, the redelivery after the kill marks the job failed; run
    again, it resumes from the checkpoint and ends exact (under each broker)."""
    assert batch_jobs.DELETE_LABELS_CHUNK * 2 < LABELS
    dataset = DatasetFactory()
    DataRow.objects.bulk_create(
        [DataRow(id=f"w-{i:06d}", dataset=dataset, row_data="s3://w") for i in range(LABELS)],
        batch_size=5000,
    )
    project = project_create(name="kill")
    batch, _ = batch_create(
        project=project, name="b", data_rows=[f"w-{i:06d}" for i in range(LABELS)]
    )
    author = UserFactory(role=Role.LABELER)
    entries = list(QueueEntry.objects.filter(batch=batch).values_list("id", "data_row_id"))
    Label.objects.bulk_create(
        [
            Label(project=project, batch=batch, data_row_id=row, author=author, annotation={})
            for _, row in entries
        ],
        batch_size=5000,
    )
    QueueEntry.objects.filter(batch=batch).update(labels_count=1, state="done")

    job = batch_delete_labels(batch=batch, set_labels_as_template=True, force_job=True)
    assert isinstance(job, Job)
    _, killed_at = kill_and_restart(
        cluster,
        cluster.start(Q_MAX_ATTEMPTS="2", **broker),
        job,
        lambda j: 0 < j.progress_done < LABELS,
        broker=broker,
        Q_MAX_ATTEMPTS="2",
    )
    print(f"\nkilled the worker at {killed_at}/{LABELS} labels deleted")
    assert 0 < killed_at < LABELS
    job = wait_job(job, lambda j: j.status == "failed", timeout=60)
    assert "earlier attempts" in job.error and job.progress_done == killed_at
    assert Event.objects.filter(type="job.failed", object_id=job.pk).count() == 1
    assert Label.objects.filter(batch=batch).count() == LABELS - killed_at

    job_retry(job=job)
    job = finish(job)
    assert job.attempts == 1 and job.progress_done == LABELS
    assert job.counts["deleted"] == LABELS and job.counts["updated"] == LABELS
    assert job.result["labels_deleted"] == LABELS
    assert not Label.objects.filter(batch=batch).exists()
    queue = QueueEntry.objects.filter(batch=batch)
    assert queue.count() == LABELS
    assert queue.filter(labels_count=0, state="queued").count() == LABELS
    assert queue.filter(template__isnull=False).count() == LABELS
    assert Batch.objects.get(pk=batch.pk).size == LABELS
    connection.close()


def import_file(path, n: int) -> None:
    with open(path, "w") as out:
        for i in range(n):
            record = {
                "global_key": f"k-{i:07d}",
                "row_data": f"s3://kill/{i:07d}.jpg",
                "metadata": {"i": i, "split": "val" if i % 10 == 0 else "train"},
            }
            out.write(json.dumps(record) + "\n")


@pytest.mark.usefixtures("postgres_only")
def test_import_survives_kills_at_several_points(cluster, tmp_path):
    """Kill points: inside the first chunk (nothing committed yet), just after the chunk that
    passes a third of the rows committed, and inside a chunk past two thirds."""
    dataset, _ = dataset_create(name="kill-import")
    version, _ = version_create(dataset=dataset, name="v")
    path = tmp_path / "rows.ndjson"
    import_file(path, IMPORT_ROWS)
    job = rows_import_start(
        version=version, record_type="data_rows", local_path=str(path), format="ndjson"
    )
    process, kills = cluster.start(), []
    for when, delay in (
        (lambda j: j.attempts == 1, 0.3),
        (lambda j: j.progress_done >= IMPORT_ROWS // 3, 0.0),
        (lambda j: j.progress_done >= 2 * IMPORT_ROWS // 3, 0.2),
    ):
        process, killed_at = kill_and_restart(cluster, process, job, when, delay=delay)
        kills.append(killed_at)
    print(f"\nkilled the worker at {kills} of {IMPORT_ROWS} rows imported")
    assert kills[0] < kills[1] < kills[2] < IMPORT_ROWS

    job = finish(job)
    assert job.attempts == 4
    assert job.progress_done == IMPORT_ROWS
    assert job.counts["created"] == IMPORT_ROWS
    assert not JobError.objects.filter(job=job).exists()
    rows = DataRow.objects.filter(dataset=dataset)
    assert rows.count() == IMPORT_ROWS
    assert rows.values("global_key").distinct().count() == IMPORT_ROWS
    entries = FrameEntry.objects.filter(version=version)
    assert entries.count() == IMPORT_ROWS
    assert entries.filter(revision__isnull=True).count() == 0
    assert FrameRevision.objects.filter(entries__version=version).distinct().count() == (
        IMPORT_ROWS
    )
    # no half-written row: every row has its content, spot-checked at the kill points
    for i in [0, *kills, IMPORT_ROWS - 1]:
        i = min(i, IMPORT_ROWS - 1)
        row = rows.get(global_key=f"k-{i:07d}")
        assert row.row_data == f"s3://kill/{i:07d}.jpg"
        content = entries.get(data_row=row).revision.content
        assert content["meta"] == {"i": i, "split": "val" if i % 10 == 0 else "train"}
    connection.close()


@pytest.mark.usefixtures("postgres_only")
def test_create_batches_survives_kills_mid_batch(cluster):
    """Kill points: while the first 100,000-row batch is being written, and while the second
    is (after the first committed)."""
    dataset = DatasetFactory()
    for start in range(0, BATCH_ROWS, 20_000):
        DataRow.objects.bulk_create(
            [
                DataRow(id=f"c-{i:07d}", dataset=dataset, global_key=f"ck-{i:07d}", row_data="x")
                for i in range(start, min(BATCH_ROWS, start + 20_000))
            ]
        )
    project = project_create(name="kill-batches")
    job = batches_create(
        project=project,
        name_prefix="part-",
        global_keys=[f"ck-{i:07d}" for i in range(BATCH_ROWS)],
        consensus_settings={"number_of_labels": 2, "coverage_percentage": 0.5},
    )
    process, kills = cluster.start(), []
    for when in (lambda j: j.attempts == 1, lambda j: j.progress_done >= MAX_BATCH_ROWS):
        process, killed_at = kill_and_restart(cluster, process, job, when, delay=1.0)
        kills.append(killed_at)
    print(f"\nkilled the worker at {kills} of {BATCH_ROWS} rows queued")
    assert kills == [0, MAX_BATCH_ROWS]

    job = finish(job)
    assert job.attempts == 3 and job.progress_done == BATCH_ROWS
    assert [b["name"] for b in job.result["batches"]] == ["part-0000", "part-0001"]
    assert not JobError.objects.filter(job=job).exists()
    batches = Batch.objects.filter(project=project).order_by("name")
    assert [(b.name, b.size) for b in batches] == [
        ("part-0000", MAX_BATCH_ROWS),
        ("part-0001", BATCH_ROWS - MAX_BATCH_ROWS),
    ]
    queue = QueueEntry.objects.filter(project=project)
    assert queue.count() == BATCH_ROWS
    assert queue.values("data_row").distinct().count() == BATCH_ROWS
    connection.close()


def test_a_delivery_killed_mid_send_is_sent_again_with_the_same_id(cluster, broker):
    """The receiver holds the first attempt; the worker is SIGKILLed while it waits. Once the
    delivery's lease has passed, the sweeper (run by the scheduler every minute; called here)
    hands it to the new worker: sent again, same X-Labelops-Delivery, delivered."""
    secret = "w" * 32
    receiver = Receiver(secret)
    receiver.plan = [("sleep", 20)]
    try:
        webhook_create(url=receiver.url, events=["ping"], secret=secret)
        process = cluster.start(**broker)
        with transaction.atomic():
            event_record(type="ping", object_type="test", object_id="kill")
        assert receiver.arrived.wait(60), "the worker never sent the delivery"
        cluster.kill(process)
        redis_settled(broker)
        delivery = Delivery.objects.get()
        assert delivery.status == "pending" and delivery.attempts == 1
        assert deliveries_sweep() == 0  # its lease still holds
        Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        cluster.start(**broker)
        assert deliveries_sweep() == 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            delivery.refresh_from_db()
            if delivery.status != "pending":
                break
            time.sleep(0.05)
        assert delivery.status == "succeeded" and delivery.attempts == 2, delivery.error
        sent = [r["headers"]["X-Labelops-Delivery"] for r in receiver.requests]
        assert sent == [delivery.pk, delivery.pk]
        assert all(r["signed"] for r in receiver.requests)
        assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    finally:
        receiver.close()
        connection.close()
