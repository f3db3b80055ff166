"""Statistics kept current by every write (issue 16 "stats kept current", issue 14 bug 3): a
version's counts, the version tree and the datasets list are right just after any import, add,
update or delete, without a commit; each write path checked against a full recount."""

import io
import json

import pytest

from dashboard.models import Job
from versions.models import DataRow, DatasetVersion
from versions.services import (
    frames_add,
    frames_bulk,
    frames_delete,
    version_create,
    version_publish,
)
from versions.stats import version_stats_compute

from .conftest import make_frame

pytestmark = pytest.mark.django_db

COUNTED = ("frame_count", "source_count", "label_counts")


def stats(version) -> dict:
    version = DatasetVersion.objects.get(pk=version.pk)
    return {key: version.stats[key] for key in COUNTED}


def exact(version) -> dict:
    """The stored statistics, checked equal to a full recount."""
    stored = stats(version)
    counted = version_stats_compute(DatasetVersion.objects.get(pk=version.pk))
    assert stored == {key: counted[key] for key in COUNTED}
    return stored


def frame(i, *labels, sources=1):
    return {
        "id": f"f{i}",
        "sources": [{"id": f"s{n}", "uri": f"s3://b/{i}/{n}.jpg"} for n in range(sources)],
        "rois": [{"label": [label], "bbox": [0, 0, 1, 1]} for label in labels],
    }


@pytest.fixture
def root(dataset):
    return version_create(dataset=dataset, name="root")[0]


def api_frames(api, version, method, body):
    return getattr(api, method)(f"/api/v1/versions/{version.pk}/frames/", body, format="json")


def test_a_new_version_starts_at_zero(root):
    assert exact(root) == {"frame_count": 0, "source_count": 0, "label_counts": {}}
    assert root.stats["last_updated"]


def test_add_through_the_api_counts_new_and_overwritten_frames(root, manager_api):
    body = {"frames": [frame(0, "car"), frame(1, "car", "person", sources=2), frame(2)]}
    assert api_frames(manager_api, root, "post", body).status_code == 200
    assert exact(root) == {
        "frame_count": 3,
        "source_count": 4,
        "label_counts": {"car": 2, "person": 1},
    }
    # Overwrite f1 (its labels and sources go), add f3.
    body = {"frames": [frame(1, "bike"), frame(3, "bike")]}
    assert api_frames(manager_api, root, "post", body).status_code == 200
    assert exact(root) == {
        "frame_count": 4,
        "source_count": 4,
        "label_counts": {"bike": 2, "car": 1},
    }
    got = manager_api.get(f"/api/v1/versions/{root.pk}/stats/").json()
    assert got["frame_count"] == 4 and got["label_counts"] == {"bike": 2, "car": 1}


def test_update_through_the_api_counts_the_change(root, manager_api):
    api_frames(manager_api, root, "post", {"frames": [frame(0, "car"), frame(1, "car")]})
    body = {"frames": [{"id": "f0", "rois": [{"label": ["truck"]}]}]}
    assert api_frames(manager_api, root, "patch", body).status_code == 200
    assert exact(root)["label_counts"] == {"car": 1, "truck": 1}
    body = {"frames": [{"id": "f1", "rois": []}]}
    assert api_frames(manager_api, root, "patch", body).status_code == 200
    assert exact(root)["label_counts"] == {"truck": 1}


def test_delete_through_the_api_counts_what_went(root, manager_api):
    api_frames(manager_api, root, "post", {"frames": [frame(i, "car") for i in range(4)]})
    response = manager_api.post(
        f"/api/v1/versions/{root.pk}/frames/delete/", {"ids": ["f0", "f2"]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert exact(root) == {"frame_count": 2, "source_count": 2, "label_counts": {"car": 2}}


def test_a_large_add_runs_as_a_job_and_counts(root, manager_api, run_jobs, monkeypatch):
    from versions import services

    monkeypatch.setattr(services, "FRAMES_SYNC_LIMIT", 3)
    with run_jobs():
        response = api_frames(
            manager_api, root, "post", {"frames": [frame(i, "car") for i in range(5)]}
        )
    assert response.status_code == 202
    assert exact(root)["frame_count"] == 5


def test_a_child_of_a_published_version_counts_overwrites_and_tombstones(dataset, manager_api):
    parent = version_create(dataset=dataset, name="v1")[0]
    frames_add(version=parent, frames=[frame(i, "car") for i in range(5)])
    parent = version_publish(version=parent)
    child = version_create(dataset=dataset, name="v2", parent=parent)[0]
    assert exact(child)["frame_count"] == 5
    api_frames(manager_api, child, "post", {"frames": [frame(0, "bike"), frame(9, "bike")]})
    manager_api.post(
        f"/api/v1/versions/{child.pk}/frames/delete/", {"ids": ["f1", "f2"]}, format="json"
    )
    assert exact(child) == {
        "frame_count": 4,
        "source_count": 4,
        "label_counts": {"bike": 2, "car": 2},
    }
    assert exact(parent)["frame_count"] == 5  # the published parent never changes


def data_rows_call(api, dataset, verb, body, run_jobs, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    with run_jobs():
        response = api.post(
            f"/api/v1/datasets/{dataset.pk}/data-rows/{verb}/?{query}", body, format="json"
        )
    assert response.status_code == 202, response.json()
    job = Job.objects.get(pk=response.json()["id"])
    return job


def row(i, **meta):
    return {"global_key": f"gk-{i}", "row_data": f"s3://r/{i}.jpg", "metadata": meta}


def draft_of(dataset):
    return DatasetVersion.objects.get(dataset=dataset, status="draft")


def test_data_row_import_update_delete_and_sync_jobs_count(dataset, manager_api, run_jobs):
    job = data_rows_call(manager_api, dataset, "import", [row(i) for i in range(6)], run_jobs)
    assert job.status == "succeeded", job.error
    draft = draft_of(dataset)
    assert exact(draft)["frame_count"] == 6
    job = data_rows_call(
        manager_api,
        dataset,
        "update",
        {"filter": {"global_key__in": ["gk-0"]}, "set": {"row_data": "s3://new"}},
        run_jobs,
    )
    assert job.counts["updated"] == 1 and exact(draft)["frame_count"] == 6
    ids = list(DataRow.objects.filter(global_key__in=["gk-0", "gk-1"]).values_list("pk", flat=True))
    job = data_rows_call(manager_api, dataset, "delete", {"ids": ids}, run_jobs)
    assert job.counts["deleted"] == 2 and exact(draft)["frame_count"] == 4
    job = data_rows_call(
        manager_api, dataset, "delete", {"filter": {"global_key__in": ["gk-5"]}}, run_jobs
    )
    assert job.counts["deleted"] == 1 and exact(draft)["frame_count"] == 3
    # sync: keeps the listed rows (one new), deletes the rest.
    job = data_rows_call(manager_api, dataset, "import", [row(2), row(7)], run_jobs, mode="sync")
    assert job.status == "succeeded", job.error
    assert exact(draft)["frame_count"] == 2


def test_an_atomic_import_that_fails_leaves_the_counts(dataset, manager_api, run_jobs):
    data_rows_call(manager_api, dataset, "import", [row(0)], run_jobs)
    draft = draft_of(dataset)
    job = data_rows_call(
        manager_api,
        dataset,
        "import",
        [row(1), {"global_key": "bad", "id": "bad id!"}],
        run_jobs,
        on_error="atomic",
    )
    assert job.status == "failed"
    assert exact(draft)["frame_count"] == 1


def test_a_frame_import_job_counts(root, manager, run_jobs):
    from versions.bulk.start import rows_import_start

    body = "".join(json.dumps(frame(i, "a")) + "\n" for i in range(3)).encode()
    with run_jobs():
        rows_import_start(
            version=root, record_type="frames", fileobj=io.BytesIO(body),
            filename="f.ndjson", size=len(body), user=manager,
        )  # fmt: skip
    assert exact(root) == {"frame_count": 3, "source_count": 3, "label_counts": {"a": 3}}


def test_the_bulk_context_counts(root):
    with frames_bulk(version=root, flush_threshold=2) as bulk:
        for i in range(5):
            bulk.add_frame(frame(i, "car"))
        bulk.update_frame({"id": "f0", "rois": []})
        bulk.delete_frame("f4")
    assert exact(root) == {"frame_count": 4, "source_count": 4, "label_counts": {"car": 3}}


# ---------------------------------------------------------------- what the pages show


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def test_the_page_add_door_counts_and_the_pages_show_current_counts(dataset, root, manager_client):
    response = manager_client.post(
        f"/versions/{root.pk}/frames/",
        {"frames": '[{"id": "a", "sources": [{"uri": "s3://a"}]}, '
                   '{"id": "b", "sources": [{"uri": "s3://b"}]}]'},
    )  # fmt: skip
    assert response.status_code == 302
    assert exact(root)["frame_count"] == 2
    detail = manager_client.get(f"/versions/{root.pk}/").content.decode()
    assert '<div class="tile-value">2</div><div class="tile-label">Frames</div>' in detail
    tree = manager_client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert "2 frames" in tree and "? frames" not in tree


def test_the_datasets_list_shows_the_rows_of_the_version_the_data_rows_view_reads(
    dataset, manager_client, manager_api, run_jobs
):
    v1 = version_create(dataset=dataset, name="v1")[0]
    frames_add(version=v1, frames=[make_frame(i) for i in range(5)])
    v1 = version_publish(version=v1)
    child = version_create(dataset=dataset, name="v2", parent=v1)[0]
    manager_api.post(f"/api/v1/versions/{child.pk}/frames/delete/", {"ids": ["f0"]}, format="json")
    html = manager_client.get("/datasets/").content.decode()
    assert "<td>4</td>" in html  # the draft's 4 frames, not the 5 data rows ever made


def test_a_recount_during_writes_does_not_store_a_stale_count(root, run_jobs, monkeypatch):
    from dashboard.jobs.services import job_create
    from versions import jobs as version_jobs

    frames_add(version=root, frames=[frame(i) for i in range(3)])
    real = version_jobs.iter_frame_contents

    def write_meanwhile(version, **kwargs):
        if not kwargs.get("after"):
            frames_add(version=root, frames=[frame(9)])  # a write while the job counts
        return real(version, **kwargs)

    monkeypatch.setattr(version_jobs, "iter_frame_contents", write_meanwhile)
    with run_jobs():
        job = job_create(kind="recount_stats", params={"version_id": root.pk})
    job.refresh_from_db()
    assert job.status == "succeeded" and job.result["skipped"]
    assert exact(root)["frame_count"] == 4


def test_the_migration_counts_every_existing_version(dataset):
    """Versions written before statistics were kept current are counted once."""
    import importlib

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("versions.migrations.0004_stats_kept_current")
    parent = version_create(dataset=dataset, name="v1")[0]
    frames_add(version=parent, frames=[frame(i, "car", sources=2) for i in range(4)])
    parent = version_publish(version=parent)
    child = version_create(dataset=dataset, name="v2", parent=parent)[0]
    frames_add(version=child, frames=[frame(0, "bike"), frame(7)])
    frames_delete(version=child, ids=["f1"])
    DatasetVersion.objects.update(stats={})  # as before: stale until a commit

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.count_all(apps, editor)
    assert exact(parent) == {"frame_count": 4, "source_count": 8, "label_counts": {"car": 4}}
    assert exact(child) == {
        "frame_count": 4,
        "source_count": 6,
        "label_counts": {"bike": 1, "car": 2},
    }
