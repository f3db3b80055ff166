"""Safe to retry: a worker killed mid-import resumes after the last committed chunk with the
same rows and counts as an uninterrupted run (nothing lost, nothing duplicated, no error
reported twice); the same import twice gives the same rows; cancel stops between chunks."""

import io

import pytest

from dashboard.jobs.runner import run_job
from dashboard.jobs.services import job_cancel
from dashboard.models import Job
from tests.dashboard.job_kinds import WorkerDied
from versions.bulk import writes as bulk
from versions.bulk.start import rows_delete_start, rows_import_start, rows_update_start
from versions.models import DataRow, FrameEntry, FrameRevision

from .conftest import ENCODERS, errors_of, rows, state_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_chunks(settings):
    settings.BULK_CHUNK_SIZE = 3


def data(n=10):
    items = rows(n)
    items[4] = {"global_key": "bad", "id": "bad id!"}  # a row error in the second chunk
    items[7] = dict(items[1])  # a duplicate key in the third chunk
    return items


def start(version, items, fmt="ndjson", **options):
    body = ENCODERS[fmt](items)
    return rows_import_start(
        version=version,
        record_type="data_rows",
        fileobj=io.BytesIO(body),
        filename=f"x.{fmt}",
        size=len(body),
        **options,
    )


def die_on_call(monkeypatch, n):
    real = bulk.write_frames
    calls = []

    def dying(version, items):
        calls.append(len(items))
        real(version, items)
        if len(calls) == n:
            raise WorkerDied  # after the writes, before the chunk commits: like SIGKILL

    monkeypatch.setattr(bulk, "write_frames", dying)


def table_counts():
    return DataRow.objects.count(), FrameRevision.objects.count(), FrameEntry.objects.count()


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
@pytest.mark.parametrize("mode", ["create", "upsert", "sync"])
def test_worker_killed_mid_import_resumes_without_loss_or_duplicates(
    mode, fmt, draft, small_chunks, monkeypatch
):
    job = start(draft, data(), fmt, mode=mode)
    die_on_call(monkeypatch, 3)
    with pytest.raises(WorkerDied):
        run_job(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING
    assert job.progress_done == 6 and job.checkpoint == {"phase": "write", "next": 6}
    assert len(state_of(draft)) == 5  # chunks 1-2 committed; chunk 3 rolled back
    monkeypatch.undo()
    assert run_job(job.pk) == Job.Status.SUCCEEDED
    job.refresh_from_db()
    assert job.attempts == 2
    assert job.counts == {"created": 8, "updated": 0, "unchanged": 0, "deleted": 0, "failed": 2}
    assert [e["index"] for e in errors_of(job)] == [4, 7]
    assert len(state_of(draft)) == 8
    assert table_counts() == (8, 8, 8)


def test_atomic_import_killed_mid_way_leaves_nothing_and_reruns_whole(
    draft, small_chunks, monkeypatch
):
    job = start(draft, rows(10), mode="create", on_error="atomic")
    die_on_call(monkeypatch, 2)
    with pytest.raises(WorkerDied):
        run_job(job.pk)
    assert state_of(draft) == {}
    monkeypatch.undo()
    assert run_job(job.pk) == Job.Status.SUCCEEDED
    job.refresh_from_db()
    assert job.counts["created"] == 10 and table_counts() == (10, 10, 10)


def test_running_the_same_import_twice_gives_the_same_rows(draft, run_jobs):
    with run_jobs():
        first = start(draft, data(), mode="upsert")
    rows_after_first = state_of(draft)
    counts = table_counts()
    with run_jobs():
        second = start(draft, data(), mode="upsert")
    second.refresh_from_db()
    assert state_of(draft) == rows_after_first and table_counts() == counts
    assert second.counts["unchanged"] == 8 and second.counts["created"] == 0
    first.refresh_from_db()
    assert first.counts["created"] == 8


def test_a_delivery_after_the_end_does_nothing(draft, run_jobs):
    with run_jobs():
        job = start(draft, rows(4), mode="create")
    assert run_job(job.pk) is None
    job.refresh_from_db()
    assert job.counts["created"] == 4 and job.attempts == 1


def test_cancel_stops_between_chunks_and_keeps_committed_chunks(draft, small_chunks, monkeypatch):
    job = start(draft, rows(10), mode="create")
    real = bulk.write_frames
    calls = []

    def cancelling(version, items):
        calls.append(1)
        real(version, items)
        if len(calls) == 2:
            job_cancel(job=job)

    monkeypatch.setattr(bulk, "write_frames", cancelling)
    assert run_job(job.pk) == Job.Status.CANCELLED
    job.refresh_from_db()
    assert job.counts["created"] == 6 and job.progress_done == 6
    assert len(state_of(draft)) == 6


def test_cancel_of_an_atomic_import_writes_nothing(draft, small_chunks, monkeypatch):
    job = start(draft, rows(10), mode="create", on_error="atomic")
    real = bulk.write_frames

    def cancelling(version, items):
        real(version, items)
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)

    monkeypatch.setattr(bulk, "write_frames", cancelling)
    assert run_job(job.pk) == Job.Status.CANCELLED
    assert state_of(draft) == {}


def test_update_and_delete_resume_after_a_dead_worker(draft, run_jobs, monkeypatch):
    from versions.bulk import jobs as bulk_jobs

    monkeypatch.setattr(bulk_jobs, "ROWS_CHUNK", 2)
    with run_jobs():
        start(draft, rows(5), mode="create")
    job = rows_update_start(version=draft, filter={}, set={"metadata": {"s": 1}})
    die_on_call(monkeypatch, 2)
    with pytest.raises(WorkerDied):
        run_job(job.pk)
    monkeypatch.undo()
    monkeypatch.setattr(bulk_jobs, "ROWS_CHUNK", 2)
    assert run_job(job.pk) == Job.Status.SUCCEEDED
    job.refresh_from_db()
    assert job.counts["updated"] == 5 and job.progress_done == 5
    assert all(v[2]["s"] == 1 for v in state_of(draft).values())
    job = rows_delete_start(version=draft, filter={"metadata__s": 1})
    assert run_job(job.pk) == Job.Status.SUCCEEDED
    job.refresh_from_db()
    assert job.counts["deleted"] == 5 and state_of(draft) == {}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only")
def test_atomic_import_shows_progress_while_it_runs(small_chunks, monkeypatch):
    """Its own transaction commits only at the end; progress comes from a second connection."""
    from django.db import DEFAULT_DB_ALIAS, connections

    from dashboard.bulk import engine
    from dashboard.jobs import services as job_services
    from versions.services import dataset_create, version_create

    draft = version_create(dataset=dataset_create(name="atomic")[0], name="draft")[0]
    with monkeypatch.context() as queue:
        queue.setattr(job_services, "job_enqueue", lambda **kw: None)  # run it here, below
        job = start(draft, rows(10), mode="create", on_error="atomic")
    monkeypatch.setattr(engine, "PROGRESS_WRITE_INTERVAL", 0)
    observer = connections.create_connection(DEFAULT_DB_ALIAS)
    seen = []
    real = bulk.write_frames

    def observed(version, items):
        with observer.cursor() as cursor:
            cursor.execute("SELECT progress_done FROM dashboard_job WHERE id = %s", [job.pk])
            seen.append(cursor.fetchone()[0])
        real(version, items)

    monkeypatch.setattr(bulk, "write_frames", observed)
    try:
        assert run_job(job.pk) == Job.Status.SUCCEEDED
    finally:
        observer.close()
    assert seen == [0, 3, 6, 9]
    job.refresh_from_db()
    assert (job.progress_done, job.counts["created"]) == (10, 10)
