"""REST: projects and batches — create, list, get, edit, reorder, remove queued rows, delete,
with the errors the contract names (400 naming the field, 404, 409 with the label count)."""

import pytest

from batches.models import Batch, Label, QueueEntry
from batches.services import batch_create

from ..factories import BatchFactory, LabelFactory, ProjectFactory, QueueEntryFactory

pytestmark = pytest.mark.django_db


def url(project, tail=""):
    return f"/api/v1/projects/{project.pk}/{tail}"


def test_projects_create_list_get_edit(manager_api, viewer_api):
    response = manager_api.post(
        "/api/v1/projects/",
        {"name": "Cars", "label_classes": ["car"], "reservation_seconds": 120},
        format="json",
    )
    assert response.status_code == 201, response.json()
    pid = response.json()["id"]
    listed = viewer_api.get("/api/v1/projects/").json()
    assert [p["id"] for p in listed["results"]] == [pid] and "next" in listed
    patched = manager_api.patch(f"/api/v1/projects/{pid}/", {"description": "d"}, format="json")
    assert patched.json()["description"] == "d" and patched.json()["label_classes"] == ["car"]
    assert viewer_api.get(f"/api/v1/projects/{pid}/").json()["name"] == "Cars"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"name": ""}, "name"),
        ({"name": "x", "label_classes": "car"}, "label_classes"),
        ({"name": "x", "reservation_seconds": 1}, "reservation_seconds"),
        ({"name": "x", "colour": 1}, "colour"),
    ],
)
def test_project_bad_input_names_the_field(manager_api, body, field):
    response = manager_api.post("/api/v1/projects/", body, format="json")
    assert response.status_code == 400 and field in response.json()


def test_roles_and_unknown_project(viewer_api, labeler_api, client):
    assert client.get("/api/v1/projects/").status_code == 401
    assert viewer_api.post("/api/v1/projects/", {"name": "x"}, format="json").status_code == 403
    assert labeler_api.post("/api/v1/projects/", {"name": "x"}, format="json").status_code == 403
    assert viewer_api.get("/api/v1/projects/nope/").status_code == 404
    assert viewer_api.get("/api/v1/projects/nope/batches/").status_code == 404


def test_create_batch_reports_failed_rows(manager_api, project, make_rows):
    rows = make_rows(3)
    QueueEntryFactory(batch__project=project, data_row=rows[2])
    response = manager_api.post(
        url(project, "batches/"),
        {
            "name": "b1",
            "global_keys": ["k-r-00000", "k-r-00001", "k-r-00002", "nope", "k-r-00000"],
            "priority": 4,
            "consensus_settings": {"number_of_labels": 2, "coverage_percentage": 0.5},
        },
        format="json",
    )
    body = response.json()
    assert response.status_code == 201, body
    assert body["size"] == 2 and body["priority"] == 4
    assert body["progress"] == {
        "rows": 2,
        "done": 0,
        "labels": 0,
        "pending_review": 0,
        "accepted": 0,
        "rejected": 0,
    }
    assert body["consensus_settings"] == {"number_of_labels": 2, "coverage_percentage": 0.5}
    assert sorted(body["failed_data_rows"], key=lambda f: f["reason"]) == [
        {
            "data_row": "r-00002",
            "global_key": "k-r-00002",
            "reason": "already in this project",
            **failure(2, "k-r-00002", "already in this project", "already_queued"),
        },
        {
            "data_row": "r-00000",
            "global_key": "k-r-00000",
            "reason": "duplicate in input",
            **failure(4, "k-r-00000", "duplicate in input", "duplicate"),
        },
        {
            "data_row": None,
            "global_key": "nope",
            "reason": "unknown",
            **failure(3, "nope", "unknown", "not_found"),
        },
    ]


def failure(index, key, message, code):
    """The one row-failure shape (issue 16) beside Labelbox's names."""
    error_type = "already_queued" if code == "already_queued" else code
    return {
        "index": index,
        "key": key,
        "input": key,
        "message": message,
        "error_type": error_type,
        "code": code,
    }


@pytest.mark.parametrize(
    "body,field",
    [
        ({"name": "b", "global_keys": ["a"], "data_rows": ["b"]}, "global_keys"),
        ({"name": "b"}, "global_keys"),
        ({"name": "b", "data_rows": ["a"], "priority": 2**31}, "priority"),
        ({"name": "b", "data_rows": ["a"], "priority": -(2**31) - 1}, "priority"),
        ({"name": "b", "data_rows": "a"}, "data_rows"),
        ({"name": "", "data_rows": ["a"]}, "name"),
        (
            {"name": "b", "data_rows": ["a"], "consensus_settings": {"number_of_labels": 0}},
            "consensus_settings",
        ),
        (
            {
                "name": "b",
                "data_rows": ["a"],
                "consensus_settings": {"number_of_labels": 2, "coverage_percentage": 1.5},
            },
            "consensus_settings",
        ),
        ({"name": "b", "data_rows": ["ghost"]}, "data_rows"),
    ],
)
def test_create_batch_errors_name_the_field(manager_api, project, body, field):
    response = manager_api.post(url(project, "batches/"), body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Batch.objects.exists()


def test_all_rows_failing_answers_400_with_the_failures(manager_api, project):
    response = manager_api.post(
        url(project, "batches/"), {"name": "b", "global_keys": ["x"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["failed_data_rows"] == [
        {
            "data_row": None,
            "global_key": "x",
            "reason": "unknown",
            **failure(0, "x", "unknown", "not_found"),
        }
    ]


def test_too_many_rows_is_400_with_the_count(manager_api, project):
    keys = [f"k{i}" for i in range(100_001)]
    response = manager_api.post(
        url(project, "batches/"), {"name": "b", "global_keys": keys}, format="json"
    )
    assert response.status_code == 400 and "100001" in response.json()["global_keys"][0]


def test_duplicate_name_is_409(manager_api, project, make_rows):
    rows = make_rows(1)
    BatchFactory(project=project, name="dup")
    response = manager_api.post(
        url(project, "batches/"), {"name": "dup", "data_rows": [rows[0].pk]}, format="json"
    )
    assert response.status_code == 409 and "name" in response.json()


def test_list_and_get_batches_with_progress(viewer_api, project, make_rows, labelers):
    rows = make_rows(4)
    batch, _ = batch_create(project=project, name="a", data_rows=[r.pk for r in rows])
    QueueEntry.objects.filter(data_row_id="r-00000").update(state="done", labels_count=1)
    listed = viewer_api.get(url(project, "batches/")).json()["results"]
    assert [(b["name"], b["size"], b["labelled_count"], b["progress"]["done"]) for b in listed] == [
        ("a", 4, 1, 1)
    ]
    one = viewer_api.get(url(project, f"batches/{batch.pk}/"))
    assert one.status_code == 200 and one.json()["id"] == batch.pk
    other = ProjectFactory()
    assert viewer_api.get(url(other, f"batches/{batch.pk}/")).status_code == 404


def test_patch_renames_and_reprioritises(manager_api, project, make_rows):
    rows = make_rows(2)
    batch, _ = batch_create(project=project, name="a", data_rows=[r.pk for r in rows])
    BatchFactory(project=project, name="taken")
    response = manager_api.patch(
        url(project, f"batches/{batch.pk}/"), {"name": "b", "priority": 9}, format="json"
    )
    assert response.status_code == 200 and response.json()["priority"] == 9
    assert set(QueueEntry.objects.values_list("sort_priority", flat=True)) == {9}
    assert (
        manager_api.patch(
            url(project, f"batches/{batch.pk}/"), {"name": "taken"}, format="json"
        ).status_code
        == 409
    )
    bad = manager_api.patch(
        url(project, f"batches/{batch.pk}/"), {"priority": 2**40}, format="json"
    )
    assert bad.status_code == 400 and "priority" in bad.json()


def test_reorder_serves_listed_batches_first(manager_api, project, make_rows):
    rows = make_rows(3)
    a, _ = batch_create(project=project, name="a", data_rows=[rows[0].pk], priority=1)
    b, _ = batch_create(project=project, name="b", data_rows=[rows[1].pk], priority=2)
    c, _ = batch_create(project=project, name="c", data_rows=[rows[2].pk])
    response = manager_api.post(
        url(project, "batches/reorder/"), {"batch_ids": [c.pk]}, format="json"
    )
    assert [x["name"] for x in response.json()] == ["c", "a", "b"]
    preview = manager_api.get(url(project, "queue/?limit=5")).json()
    assert [p["batch"]["name"] for p in preview] == ["c", "a", "b"]
    for body in ({"batch_ids": []}, {"batch_ids": ["nope"]}, {"batch_ids": [a.pk, a.pk]}):
        bad = manager_api.post(url(project, "batches/reorder/"), body, format="json")
        assert bad.status_code == 400 and "batch_ids" in bad.json()


def test_remove_queued_rows_keeps_labelled_ones(manager_api, project, make_rows):
    rows = make_rows(3)
    batch, _ = batch_create(project=project, name="a", data_rows=[r.pk for r in rows])
    LabelFactory(entry=QueueEntry.objects.get(data_row=rows[0]))
    QueueEntry.objects.filter(data_row=rows[0]).update(labels_count=1, state="done")
    response = manager_api.post(url(project, f"batches/{batch.pk}/remove-queued/"))
    assert response.json() == {"removed": 2, "held": 0}
    batch.refresh_from_db()
    assert batch.size == 1
    assert list(QueueEntry.objects.values_list("data_row_id", flat=True)) == ["r-00000"]


def test_delete_batch_refused_while_labels_exist(manager_api, project, make_rows):
    rows = make_rows(2)
    batch, _ = batch_create(project=project, name="a", data_rows=[r.pk for r in rows])
    LabelFactory(entry=QueueEntry.objects.get(data_row=rows[0]))
    response = manager_api.delete(url(project, f"batches/{batch.pk}/"))
    assert response.status_code == 409
    assert response.json()["labels_count"] == 1 and "1 label" in response.json()["detail"]
    Label.objects.all().delete()
    assert manager_api.delete(url(project, f"batches/{batch.pk}/")).status_code == 204
    assert not Batch.objects.exists() and not QueueEntry.objects.exists()
    assert len(rows) == 2 and rows[0].__class__.objects.count() == 2  # the data rows stay
    assert manager_api.delete(url(project, f"batches/{batch.pk}/")).status_code == 404


def test_upload_a_file_of_keys(manager_api, project, make_rows):
    from django.core.files.uploadedfile import SimpleUploadedFile

    make_rows(3)
    upload = SimpleUploadedFile("keys.csv", b"global_key,note\nk-r-00000,a\nk-r-00001,b\n")
    response = manager_api.post(
        url(project, "batches/"), {"name": "f", "priority": "2", "file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["size"] == 2 and response.json()["priority"] == 2


def test_schema_lists_every_path(client):
    schema = client.get("/api/schema/").content.decode()
    for path in [
        "/api/v1/projects/{project_id}/batches/bulk/",
        "/api/v1/projects/{project_id}/batches/from-dataset/",
        "/api/v1/projects/{project_id}/batches/{batch_id}/delete-labels/",
        "/api/v1/projects/{project_id}/queue/next/",
        "/api/v1/projects/{project_id}/queue/{entry_id}/submit/",
        "/api/v1/projects/{project_id}/export/stream/",
        "/api/v1/projects/{project_id}/publish-labels/",
    ]:
        assert path in schema
