"""REST jobs: create_batches (chunks named <prefix>0000…, refused up front when a name is
taken, result lists the batches, errors the failed rows), create_batches_from_dataset,
delete_labels (with templates served again by next) and the NDJSON export (job file + stream)."""

import json

import pytest

from batches import services
from batches.models import Batch, Label, QueueEntry
from batches.services import batch_create, label_submit, queue_next
from dashboard.models import Job
from versions.services import dataset_create, frames_add, version_create, version_publish

from ..factories import BatchFactory

pytestmark = pytest.mark.django_db


def url(project, tail=""):
    return f"/api/v1/projects/{project.pk}/{tail}"


@pytest.fixture
def small_chunks(monkeypatch):
    """Batches of 4 rows instead of 100,000, so chunking shows with a few rows."""
    from batches import jobs
    from batches.services import batches as batch_services

    monkeypatch.setattr(batch_services, "MAX_BATCH_ROWS", 4)
    monkeypatch.setattr(jobs, "MAX_BATCH_ROWS", 4)


def test_create_batches_in_named_chunks(manager_api, project, make_rows, run_jobs, small_chunks):
    make_rows(10)
    keys = [f"k-r-{i:05d}" for i in range(10)] + ["nope"]
    with run_jobs():
        response = manager_api.post(
            url(project, "batches/bulk/"),
            {"name_prefix": "part-", "global_keys": keys, "priority": 3},
            format="json",
        )
    assert response.status_code == 202, response.json()
    job = manager_api.get(response["Location"]).json()
    assert job["status"] == "succeeded" and job["kind"] == "create_batches"
    assert [(b["name"], b["size"]) for b in job["result"]["batches"]] == [
        ("part-0000", 4),
        ("part-0001", 4),
        ("part-0002", 2),
    ]
    assert job["counts"]["created"] == 10 and job["counts"]["failed"] == 1
    errors = manager_api.get(response["Location"] + "errors/").json()["results"]
    assert errors[0]["index"] == 10 and errors[0]["key"] == "nope"
    assert set(QueueEntry.objects.values_list("sort_priority", flat=True)) == {3}


def test_create_batches_refused_before_anything_when_a_name_exists(
    manager_api, project, make_rows, small_chunks
):
    make_rows(6)
    BatchFactory(project=project, name="part-0001")
    response = manager_api.post(
        url(project, "batches/bulk/"),
        {"name_prefix": "part-", "data_rows": [f"r-{i:05d}" for i in range(6)]},
        format="json",
    )
    assert response.status_code == 409 and "name_prefix" in response.json()
    assert not Job.objects.exists() and Batch.objects.count() == 1


@pytest.mark.parametrize(
    "body,field",
    [
        ({"global_keys": ["a"]}, "name_prefix"),
        ({"name_prefix": "p", "global_keys": ["a"], "data_rows": ["b"]}, "global_keys"),
        ({"name_prefix": "p", "data_rows": ["a"], "priority": 2**31}, "priority"),
    ],
)
def test_create_batches_bad_input(manager_api, project, body, field):
    response = manager_api.post(url(project, "batches/bulk/"), body, format="json")
    assert response.status_code == 400 and field in response.json()


def test_create_batches_limit_is_one_million(manager_api, project):
    response = manager_api.post(
        url(project, "batches/bulk/"),
        {"name_prefix": "p", "data_rows": ["x"] * 1_000_001},
        format="json",
    )
    assert response.status_code == 400 and "1000001" in response.json()["data_rows"][0]


@pytest.fixture
def dataset_with_versions(manager):
    dataset, _ = dataset_create(name="ds", user=manager)
    v1, _ = version_create(dataset=dataset, name="v1")
    frames_add(
        version=v1,
        frames=[
            {
                "id": f"f{i}",
                "global_key": f"g{i}",
                "sources": [{"uri": f"s3://b/{i}.jpg"}],
                "meta": {"split": "train", "i": i},
                "attachments": [{"type": "text", "value": f"note {i}"}],
            }
            for i in range(6)
        ],
    )
    v1 = version_publish(version=v1)
    v2, _ = version_create(dataset=dataset, name="v2", parent=v1)
    frames_add(
        version=v2,
        frames=[
            {
                "id": "f0",
                "global_key": "g0",
                "sources": [{"uri": "s3://b/0.jpg"}],
                "meta": {"split": "val"},
            }
        ]
        + [{"id": "f9", "global_key": "g9", "sources": [{"uri": "s3://b/9.jpg"}]}],
    )
    return dataset, v1, v2


def test_create_batches_from_dataset_skips_rows_already_in_the_project(
    manager_api, project, dataset_with_versions, run_jobs, small_chunks
):
    dataset, v1, _ = dataset_with_versions
    batch_create(project=project, name="old", data_rows=["f1"])
    with run_jobs():
        response = manager_api.post(
            url(project, "batches/from-dataset/"),
            {"name_prefix": "ds-", "dataset_id": dataset.pk, "version_id": v1.pk},
            format="json",
        )
    assert response.status_code == 202, response.json()
    job = manager_api.get(response["Location"]).json()
    assert job["status"] == "succeeded"
    assert [(b["name"], b["size"]) for b in job["result"]["batches"]] == [
        ("ds-0000", 4),
        ("ds-0001", 1),
    ]
    made = Batch.objects.get(name="ds-0000")
    assert made.dataset_id == dataset.pk and made.version_id == v1.pk
    assert "f9" not in set(QueueEntry.objects.values_list("data_row_id", flat=True))
    # The whole dataset (no version): only f9 is left; then nothing is → 400.
    with run_jobs():
        again = manager_api.post(
            url(project, "batches/from-dataset/"),
            {"name_prefix": "more-", "dataset_id": dataset.pk},
            format="json",
        )
    assert manager_api.get(again["Location"]).json()["result"]["batches"][0]["size"] == 1
    empty = manager_api.post(
        url(project, "batches/from-dataset/"),
        {"name_prefix": "none-", "dataset_id": dataset.pk},
        format="json",
    )
    assert empty.status_code == 400 and "dataset_id" in empty.json()


def test_from_dataset_errors(manager_api, project, dataset_with_versions):
    dataset, _, _ = dataset_with_versions
    unknown = manager_api.post(
        url(project, "batches/from-dataset/"),
        {"name_prefix": "x", "dataset_id": "nope"},
        format="json",
    )
    assert unknown.status_code == 404
    bad_version = manager_api.post(
        url(project, "batches/from-dataset/"),
        {"name_prefix": "x", "dataset_id": dataset.pk, "version_id": "nope"},
        format="json",
    )
    assert bad_version.status_code == 404


@pytest.mark.parametrize("as_template", [False, True])
def test_delete_labels_requeues_rows_with_optional_templates(
    manager_api, project, make_rows, labelers, run_jobs, as_template
):
    rows = make_rows(3)
    batch, _ = batch_create(project=project, name="b", data_rows=[r.pk for r in rows])
    for user in labelers[:2]:
        entry = queue_next(project=project, user=user)
        label_submit(
            project=project, entry_id=entry.pk, user=user, annotation={"who": user.username}
        )
    skipper = labelers[2]
    entry = queue_next(project=project, user=skipper)
    from batches.services import queue_skip

    queue_skip(project=project, entry_id=entry.pk, user=skipper)
    with run_jobs():
        response = manager_api.post(
            url(project, f"batches/{batch.pk}/delete-labels/"),
            {"set_labels_as_template": as_template},
            format="json",
        )
    assert response.status_code == 202
    job = manager_api.get(response["Location"]).json()
    assert job["status"] == "succeeded" and job["result"]["labels_deleted"] == 2
    assert not Label.objects.exists()
    assert set(QueueEntry.objects.values_list("state", flat=True)) == {"queued"}
    # Any labeler may get the rows again, the first labeler too.
    again = queue_next(project=project, user=labelers[0])
    assert again.data_row_id == "r-00000"
    assert again.template == ({"who": "lab0"} if as_template else None)
    taken = manager_api.post(url(project, "queue/next/")).json()
    assert taken["template"] == ({"who": "lab1"} if as_template else None)


def test_delete_labels_small_batches_at_once_and_bad_flag(
    manager_api, project, make_rows, labelers
):
    rows = make_rows(1)
    batch, _ = batch_create(project=project, name="b", data_rows=[rows[0].pk])
    entry = queue_next(project=project, user=labelers[0])
    label_submit(project=project, entry_id=entry.pk, user=labelers[0], annotation={})
    bad = {"set_labels_as_template": "yes"}
    response = manager_api.post(
        url(project, f"batches/{batch.pk}/delete-labels/"), bad, format="json"
    )
    assert response.status_code == 400 and "set_labels_as_template" in response.json()
    assert services.batch_delete_labels(batch=batch) == {"labels_deleted": 1, "rows_requeued": 1}


def test_export_stream_and_job_file(
    manager_api, viewer_api, project, dataset_with_versions, labelers, run_jobs
):
    dataset, v1, v2 = dataset_with_versions
    b1, _ = batch_create(project=project, name="b1", data_rows=["f0", "f1"], version=v1)
    b2, _ = batch_create(project=project, name="b2", data_rows=["f9"])
    entry = queue_next(project=project, user=labelers[0])
    label_submit(
        project=project, entry_id=entry.pk, user=labelers[0], annotation={"classes": ["car"]}
    )
    query = (
        f"export/stream/?batch_ids={b1.pk},{b2.pk}&attachments=true&metadata_fields=true"
        "&data_row_details=true&labels=true"
    )
    assert viewer_api.get(url(project, query)).status_code == 403  # labels: managers only
    response = manager_api.get(url(project, query))
    assert response.status_code == 200 and response["Content-Type"] == "application/x-ndjson"
    assert response.streaming
    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    by_id = {line["data_row"]["id"]: line for line in lines}
    assert set(by_id) == {"f0", "f1", "f9"}
    f0 = by_id["f0"]
    assert f0["batch"] == {"id": b1.pk, "name": "b1"}
    assert f0["metadata_fields"] == {"split": "train", "i": 0}  # b1 reads v1, not the draft
    assert f0["attachments"] == [{"type": "text", "value": "note 0"}]
    assert f0["labels"][0]["annotation"] == {"classes": ["car"]}
    assert f0["data_row"]["details"]["dataset"] == dataset.pk
    assert by_id["f9"]["metadata_fields"] == {}  # b2 reads the current draft v2
    plain = viewer_api.get(url(project, f"export/stream/?batch_ids={b2.pk}"))
    only = json.loads(b"".join(plain.streaming_content))
    assert set(only) == {"data_row", "batch"}
    bad = viewer_api.get(url(project, "export/stream/?batch_ids=nope"))
    assert bad.status_code == 400 and "batch_ids" in bad.json()
    bad_flag = viewer_api.get(url(project, "export/stream/?labels=maybe"))
    assert bad_flag.status_code == 400 and "labels" in bad_flag.json()

    with run_jobs():
        started = manager_api.post(
            url(project, "export/"), {"batch_ids": [b1.pk], "labels": True}, format="json"
        )
    assert started.status_code == 202
    job = manager_api.get(started["Location"]).json()
    assert job["status"] == "succeeded" and job["result"]["rows"] == 2 and job["file_url"]
    file = manager_api.get(job["file_url"])
    content = b"".join(file.streaming_content).decode().splitlines()
    assert [json.loads(line)["data_row"]["id"] for line in content] == ["f0", "f1"]


def test_publish_labels_writes_a_new_version(
    manager_api, project, dataset_with_versions, labelers, run_jobs
):
    dataset, v1, _ = dataset_with_versions
    batch_create(project=project, name="b1", data_rows=["f0", "f1"])
    entry = queue_next(project=project, user=labelers[0])
    label_submit(
        project=project,
        entry_id=entry.pk,
        user=labelers[0],
        annotation={"objects": [{"class": "car", "bbox": [1, 2, 3, 4]}]},
    )
    with run_jobs():
        response = manager_api.post(
            url(project, "publish-labels/"),
            {"dataset_id": dataset.pk, "version_name": "labelled"},
            format="json",
        )
    assert response.status_code == 202, response.json()
    job = manager_api.get(response["Location"]).json()
    assert job["status"] == "succeeded", job
    from versions.copy_on_write import effective_entries
    from versions.models import DatasetVersion

    version = DatasetVersion.objects.get(pk=job["result"]["version_id"])
    assert version.parent_id == v1.pk
    content = effective_entries(version).get(data_row_id="f0").revision.content
    assert content["rois"] == [{"label": ["car"], "confidence": 1.0, "bbox": [1, 2, 3, 4]}]
    # The new version's statistics are current at once (issue 16: kept by every write).
    from versions.stats import version_stats_compute

    counted = version_stats_compute(version)
    assert version.stats["label_counts"] == counted["label_counts"]
    assert counted["label_counts"].get("car", 0) >= 1
    assert version.stats["frame_count"] == counted["frame_count"]
    assert content["meta"] == {"split": "train", "i": 0}
    missing = manager_api.post(
        url(project, "publish-labels/"), {"dataset_id": "nope", "version_name": "x"}, format="json"
    )
    assert missing.status_code == 404
