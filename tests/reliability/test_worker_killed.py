"""A real qcluster is SIGKILLed in the middle of a job, at several points, and started again:
the job resumes from its last committed chunk and ends with exactly the right rows — nothing
lost, nothing done twice, no half-written row. Redelivery is fast-forwarded (`redeliver_now`)
instead of waiting django-q2's `retry` seconds."""

import json
import os
import time

import pytest
from django.db import connection

from batches import jobs as batch_jobs
from batches.models import Batch, Label, QueueEntry
from batches.services import (
    MAX_BATCH_ROWS,
    batch_create,
    batch_delete_labels,
    batches_create,
    project_create,
)
from dashboard.jobs.services import job_retry
from dashboard.models import Job, JobError
from dashboard.roles import Role
from versions.bulk.start import rows_import_start
from versions.models import DataRow, FrameEntry, FrameRevision
from versions.services import dataset_create, version_create

from ..factories import DatasetFactory, UserFactory
from .conftest import redeliver_now, wait_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

LABELS = 12_000  # three chunks of batches.jobs.DELETE_LABELS_CHUNK
IMPORT_ROWS = int(os.environ.get("KILL_TEST_IMPORT_ROWS", "200000"))
BATCH_ROWS = MAX_BATCH_ROWS + MAX_BATCH_ROWS // 2  # two batches: 100,000 and 50,000


def kill_and_restart(cluster, process, job, when, *, delay=0.0, timeout=120, **env):
    """Wait until `when(job)` and `delay` seconds more, SIGKILL the cluster, check the job is
    still running and start a new cluster that gets the task again. Returns (new process,
    progress at the kill)."""
    wait_job(job, lambda j: j.status == "running" and when(j), timeout=timeout)
    time.sleep(delay)
    cluster.kill(process)
    job.refresh_from_db()
    assert job.status == "running", (job.status, job.error)
    killed_at = job.progress_done
    assert redeliver_now() == 1
    return cluster.start(**env), killed_at


def finish(job, *, timeout=300) -> Job:
    job = wait_job(job, lambda j: j.status in Job.ENDED, timeout=timeout)
    assert job.status == "succeeded", job.error
    return job


def test_delete_labels_killed_past_its_attempts_fails_then_runs_again(cluster):
    """With two deliveries allowed, the redelivery after the kill marks the job failed; run
    again, it resumes from the checkpoint and ends exact."""
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
        cluster.start(Q_MAX_ATTEMPTS="2"),
        job,
        lambda j: 0 < j.progress_done < LABELS,
        Q_MAX_ATTEMPTS="2",
    )
    print(f"\nkilled the worker at {killed_at}/{LABELS} labels deleted")
    assert 0 < killed_at < LABELS
    job = wait_job(job, lambda j: j.status == "failed", timeout=60)
    assert "earlier attempts" in job.error and job.progress_done == killed_at
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
