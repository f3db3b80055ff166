"""A real qcluster is SIGKILLed in the middle of a job and started again: the job resumes
from its last committed chunk and ends with exactly the right rows — nothing lost, nothing
done twice. (Redelivery waits django-q2's `retry`, shortened here with Q_RETRY.)"""

import os
import signal
import subprocess
import time

import pytest
from django.db import connection
from django_q.conf import Conf

from batches import jobs as batch_jobs
from batches.models import Batch, Label, QueueEntry
from batches.services import batch_create, batch_delete_labels, project_create
from dashboard.models import Job
from dashboard.processes import manage_py_start, process_group_stop
from dashboard.roles import Role
from versions.models import DataRow

from ..dashboard.test_worker import test_database_url
from ..factories import DatasetFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

LABELS = 12_000  # three chunks of batches.jobs.DELETE_LABELS_CHUNK


@pytest.fixture
def worker(monkeypatch, tmp_path):
    monkeypatch.setattr(Conf, "SYNC", False)
    started = []

    def start():
        env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "Q_WORKERS": "1",
            "JOB_TIMEOUT": "20",
            "Q_RETRY": "25",
        }
        log = open(tmp_path / f"qcluster-{len(started)}.log", "wb")
        started.append(manage_py_start(["qcluster"], env=env, stdout=log, stderr=subprocess.STDOUT))
        return started[-1]

    yield start
    for process in started:
        process_group_stop(process, grace=3)


def wait(job, condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if condition(job):
            return job
        time.sleep(0.02)
    raise AssertionError(f"timed out: {job.status} {job.progress_done}/{job.progress_total}")


def test_delete_labels_survives_a_killed_worker(worker):
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
    first = worker()
    wait(job, lambda j: 0 < j.progress_done < LABELS, timeout=60)
    os.killpg(first.pid, signal.SIGKILL)  # the whole cluster, mid-job
    first.wait()
    job.refresh_from_db()
    killed_at = job.progress_done
    assert job.status == "running" and 0 < killed_at < LABELS
    print(f"\nkilled the worker at {killed_at}/{LABELS} labels deleted")

    worker()
    job = wait(job, lambda j: j.status in Job.ENDED, timeout=60)
    assert job.status == "succeeded", job.error
    assert job.attempts == 2 and job.progress_done == LABELS
    assert job.counts["deleted"] == LABELS and job.counts["updated"] == LABELS
    assert job.result["labels_deleted"] == LABELS
    assert not Label.objects.filter(batch=batch).exists()
    queue = QueueEntry.objects.filter(batch=batch)
    assert queue.count() == LABELS
    assert queue.filter(labels_count=0, state="queued").count() == LABELS
    assert queue.filter(template__isnull=False).count() == LABELS
    assert Batch.objects.get(pk=batch.pk).size == LABELS
    connection.close()
