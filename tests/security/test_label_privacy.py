"""Consensus privacy: a labeler never reads other labelers' annotations (exports with labels
are for managers), and a job's file (an export) is read only by its creator and managers."""

import json

import pytest
from django.core.files.base import ContentFile

from batches.models import QueueEntry
from batches.services import batch_create, label_submit, queue_next
from dashboard.models import Job
from dashboard.roles import Role, user_set_role
from versions.copy_on_write import effective_entries
from versions.models import DatasetVersion
from versions.services import dataset_create, frames_add, version_create, version_publish

from ..conftest import token_client
from ..factories import DataRowFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def consensus(db):
    """A row needing two labels, labelled once by someone else: still being labelled."""
    project = ProjectFactory()
    row = DataRowFactory()
    batch, _ = batch_create(
        project=project,
        name="b",
        data_rows=[row.pk],
        consensus_settings={"number_of_labels": 2, "coverage_percentage": 1},
    )
    other = UserFactory(username="other", role=Role.LABELER)
    entry = queue_next(project=project, user=other)
    label_submit(project=project, entry_id=entry.pk, user=other, annotation={"classes": ["secret"]})
    assert QueueEntry.objects.get().state == "queued"
    return project


def stream(client, project, query):
    response = client.get(f"/api/v1/projects/{project.pk}/export/stream/?{query}")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body.decode()


@pytest.mark.parametrize("who", ["labeler_api", "viewer_api"])
def test_export_stream_with_labels_is_for_managers(request, consensus, who):
    client = request.getfixturevalue(who)
    status, body = stream(client, consensus, "labels=true&metadata_fields=true")
    assert status == 403 and "secret" not in body
    # Without labels the stream stays readable by every role, as before.
    status, body = stream(client, consensus, "metadata_fields=true")
    assert status == 200 and "secret" not in body
    assert json.loads(body.splitlines()[0])["batch"]["name"] == "b"


def test_a_labeler_is_served_the_row_without_having_read_its_labels(labeler_api, consensus):
    assert stream(labeler_api, consensus, "labels=1")[0] == 403
    served = labeler_api.post(f"/api/v1/projects/{consensus.pk}/queue/next/")
    assert served.status_code == 200 and "secret" not in served.content.decode()


def test_a_manager_exports_labels(manager_api, consensus):
    status, body = stream(manager_api, consensus, "labels=true")
    assert status == 200
    assert json.loads(body)["labels"][0]["annotation"] == {"classes": ["secret"]}


@pytest.mark.parametrize("who", ["labeler_api", "viewer_api"])
@pytest.mark.parametrize("labels", [True, False])
def test_export_jobs_are_for_managers(request, consensus, who, labels):
    client = request.getfixturevalue(who)
    response = client.post(
        f"/api/v1/projects/{consensus.pk}/export/", {"labels": labels}, format="json"
    )
    assert response.status_code == 403
    assert not Job.objects.filter(kind="export_batches").exists()


@pytest.fixture
def export_job(manager):
    other = UserFactory(username="boss", role=Role.MANAGER)
    job = Job.objects.create(kind="export_batches", status="succeeded", created_by=other)
    job.file.save("export.ndjson", ContentFile(b'{"labels": ["secret"]}\n'))
    return job


@pytest.mark.parametrize("who", ["labeler_api", "viewer_api"])
def test_a_job_file_is_refused_to_other_users(request, export_job, who):
    client = request.getfixturevalue(who)
    response = client.get(f"/api/v1/jobs/{export_job.pk}/file/")
    assert response.status_code == 403 and b"secret" not in response.content
    assert client.get(f"/api/v1/jobs/{export_job.pk}/").json()["file_url"] is None


def test_a_job_file_is_read_by_managers_and_its_creator(manager_api, export_job):
    response = manager_api.get(f"/api/v1/jobs/{export_job.pk}/file/")
    assert response.status_code == 200
    assert b"secret" in b"".join(response.streaming_content)
    # Its creator keeps access after losing the manager role.
    creator = export_job.created_by
    user_set_role(user=creator, role=Role.VIEWER)
    again = token_client(creator).get(f"/api/v1/jobs/{export_job.pk}/file/")
    assert again.status_code == 200


def test_the_job_page_links_the_file_only_for_those_who_may_read_it(
    client, viewer, manager, export_job
):
    link = f"/api/v1/jobs/{export_job.pk}/file/"
    client.force_login(viewer)
    page = client.get(f"/jobs/{export_job.pk}/")
    assert page.status_code == 200 and link not in page.content.decode()
    client.force_login(manager)
    assert link in client.get(f"/jobs/{export_job.pk}/").content.decode()


def test_publish_labels_leaves_out_rows_still_being_labelled(manager_api, labeler_api, run_jobs):
    """A version's frames are readable by every role: only done rows' labels go there."""
    dataset, _ = dataset_create(name="ds")
    root, _ = version_create(dataset=dataset, name="v1")
    frames = [{"id": f"f{i}", "sources": [{"uri": f"s3://b/{i}.jpg"}]} for i in range(2)]
    frames_add(version=root, frames=frames)
    version_publish(version=root)
    project = ProjectFactory()
    batch_create(
        project=project,
        name="b",
        data_rows=["f0"],
        consensus_settings={"number_of_labels": 2, "coverage_percentage": 1},
    )
    batch_create(project=project, name="single", data_rows=["f1"])
    other = UserFactory(username="other", role=Role.LABELER)
    for _ in range(2):  # f0 gets one of its two labels (in progress), f1 its only one (done)
        entry = queue_next(project=project, user=other)
        label_submit(
            project=project,
            entry_id=entry.pk,
            user=other,
            annotation={"classes": ["secret" if entry.data_row_id == "f0" else "public"]},
        )
    assert dict(QueueEntry.objects.values_list("data_row_id", "state")) == {
        "f0": "queued",
        "f1": "done",
    }
    with run_jobs():
        response = manager_api.post(
            f"/api/v1/projects/{project.pk}/publish-labels/",
            {"dataset_id": dataset.pk, "version_name": "labelled"},
            format="json",
        )
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == "succeeded" and job.progress_total == 1
    version = DatasetVersion.objects.get(pk=job.result["version_id"])
    contents = {
        e.data_row_id: e.revision.content
        for e in effective_entries(version).select_related("revision")
    }
    assert contents["f1"]["rois"] == [{"label": ["public"], "confidence": 1.0}]
    assert not contents["f0"].get("rois")
    frames_seen = labeler_api.get(f"/api/v1/versions/{version.pk}/frames/").content
    assert b"secret" not in frames_seen and b"public" in frames_seen
