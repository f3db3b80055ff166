"""The job loop in-process: progress, counts, row errors, cancel, failure, resume after a crash."""

import pytest

from dashboard.jobs.runner import run_job
from dashboard.jobs.services import job_cancel, job_create
from dashboard.models import Job

from . import job_kinds
from .job_kinds import WorkerDied

pytestmark = pytest.mark.django_db


def test_job_runs_to_success_with_progress_counts_and_result(manager, run_jobs):
    with run_jobs():
        job = job_create(kind="test_count", params={"items": [1, 2, 3, 4, 5]}, user=manager)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert (job.progress_done, job.progress_total) == (5, 5)
    assert job.counts["created"] == 5 and job.counts["failed"] == 0
    assert job.result == {"total": 15}
    assert job.started_at and job.finished_at and job.attempts == 1


def test_failing_rows_are_recorded_with_index_and_message_and_good_rows_kept(run_jobs):
    with run_jobs():
        job = job_create(kind="test_count", params={"items": [1, "x", 3, None]})
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.counts["created"] == 2 and job.counts["failed"] == 2
    assert job.errors_count == 2
    errors = list(job.row_errors.values("index", "key", "message", "input"))
    assert errors == [
        {"index": 1, "key": "x", "message": "not a number", "input": "x"},
        {"index": 3, "key": "None", "message": "not a number", "input": None},
    ]


def test_unexpected_error_fails_the_job_with_its_reason(run_jobs):
    with run_jobs():
        job = job_create(kind="test_boom")
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "boom" in job.error


def test_unknown_kind_is_refused_before_anything_is_written():
    from dashboard.errors import Invalid

    with pytest.raises(Invalid) as exc:
        job_create(kind="no_such_kind")
    assert exc.value.field == "kind"
    assert not Job.objects.exists()


def test_cancel_while_queued_ends_the_job_without_running_it():
    job = job_create(kind="test_count", params={"items": [1, 2]})
    job = job_cancel(job=job)
    assert job.status == Job.Status.CANCELLED
    assert run_job(job.pk) is None  # a late delivery does nothing
    job.refresh_from_db()
    assert job.progress_done == 0


def test_cancel_while_running_stops_between_chunks_keeping_committed_work(run_jobs):
    with run_jobs():
        job = job_create(kind="test_count", params={"items": list(range(10)), "cancel_at": [4]})
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert job.progress_done == 4  # two chunks of two committed before the cancel
    assert job.counts["created"] == 4


def test_cancel_of_an_ended_job_is_a_conflict(run_jobs):
    from dashboard.errors import Conflict

    with run_jobs():
        job = job_create(kind="test_count", params={"items": [1]})
    job.refresh_from_db()
    with pytest.raises(Conflict):
        job_cancel(job=job)


def test_retry_after_a_dead_worker_resumes_from_the_checkpoint_without_duplicates():
    job = job_create(kind="test_count", params={"items": list(range(7)), "die_at": [4]})
    job_kinds.CALLS.clear()
    with pytest.raises(WorkerDied):
        run_job(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.progress_done == 4
    # django-q2 hands the task out again: the job resumes after the last committed chunk.
    assert run_job(job.pk) == Job.Status.SUCCEEDED
    job.refresh_from_db()
    assert job_kinds.CALLS == [[0, 1, 2, 3], [4, 5, 6]]
    assert job.counts["created"] == 7 and job.progress_done == 7 and job.attempts == 2


def test_the_last_delivery_after_repeated_deaths_marks_the_job_failed(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "max_attempts": 2}
    job = job_create(kind="test_count", params={"items": [1, 2, 3], "die_at": [0]})
    with pytest.raises(WorkerDied):
        run_job(job.pk)
    assert run_job(job.pk) is None
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "earlier attempts" in job.error


def test_a_second_delivery_of_a_finished_job_does_nothing(run_jobs):
    with run_jobs():
        job = job_create(kind="test_count", params={"items": [1, 2]})
    assert run_job(job.pk) is None
    job.refresh_from_db()
    assert job.counts["created"] == 2 and job.attempts == 1


def test_reaper_fails_jobs_left_running_past_redelivery_and_spares_fresh_ones(settings):
    from datetime import timedelta

    from django.utils import timezone

    from dashboard.jobs.services import STALE_GRACE_SECONDS, jobs_reap

    stale = Job.objects.create(kind="test_count", status="running")
    fresh = Job.objects.create(kind="test_count", status="running")
    queued = Job.objects.create(kind="test_count", status="queued")
    old = timezone.now() - timedelta(seconds=settings.Q_CLUSTER["retry"] + STALE_GRACE_SECONDS + 5)
    Job.objects.filter(pk__in=[stale.pk, queued.pk]).update(updated_at=old)
    assert jobs_reap() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    queued.refresh_from_db()
    assert stale.status == "failed" and "run it again" in stale.error and stale.finished_at
    assert fresh.status == "running" and queued.status == "queued"


def test_the_reaper_is_scheduled():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(func="dashboard.jobs.services.jobs_reap")
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 5
