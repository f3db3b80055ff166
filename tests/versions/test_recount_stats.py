"""The recount_stats job kind: statistics counted in chunks, malformed frames reported."""

import pytest

from dashboard.jobs.services import job_create
from dashboard.models import Job
from versions import jobs as version_jobs
from versions.models import FrameEntry, FrameRevision
from versions.services import dataset_create, frames_add, version_create

pytestmark = pytest.mark.django_db


def test_recount_counts_frames_sources_and_labels_in_chunks(run_jobs, monkeypatch):
    monkeypatch.setattr(version_jobs, "RECOUNT_CHUNK", 3)
    dataset, _ = dataset_create(name="d")
    version, _ = version_create(dataset=dataset, name="v")
    frames_add(
        version=version,
        frames=[
            {
                "id": f"f{i}",
                "sources": [{"uri": f"s3://b/{i}"}, {"id": "depth", "uri": f"s3://d/{i}"}],
                "rois": [{"label": ["car" if i % 2 else "person"]}],
            }
            for i in range(7)
        ],
    )
    # A frame whose stored content is malformed (e.g. edited by hand in the admin).
    broken = FrameRevision.objects.get(data_row_id="f3")
    FrameRevision.objects.filter(pk=broken.pk).update(content={"rois": "oops"})
    with run_jobs():
        job = job_create(kind="recount_stats", params={"version_id": version.pk})
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert (job.progress_done, job.progress_total) == (7, 7)
    assert job.errors_count == 1
    error = job.row_errors.get()
    assert (error.index, error.key, error.error_type) == (3, "f3", "content")
    version.refresh_from_db()
    assert version.stats["frame_count"] == 6 and version.stats["source_count"] == 12
    assert version.stats["label_counts"] == {"car": 2, "person": 4}  # f3 (car) is broken
    assert FrameEntry.objects.filter(version=version).count() == 7


def test_recount_of_an_unknown_version_fails_the_job_with_a_reason(run_jobs):
    with run_jobs():
        job = job_create(kind="recount_stats", params={"version_id": "missing"})
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "missing" in job.error
