"""Issue 16's frame rows: duplicate ids within one add reported (the seed's
`warn_on_duplicate_frames`), delete reporting unknown ids, `delete_sources` (the seed's
`delete_frames(…, delete_sources)`), and one row-failure shape `{index, key, input, message,
error_type, code}` in every synchronous answer and in `jobs/{id}/errors/`."""

import pytest
from django.test import Client

from batches.models import Project
from batches.services import batch_create, label_submit, queue_next
from dashboard.models import Job
from versions import services
from versions.copy_on_write import iter_frame_contents
from versions.models import DataRow, FrameRevision
from versions.services import frames_add, frames_bulk, frames_delete, version_create

from ..conftest import token_client
from .conftest import make_frame

pytestmark = pytest.mark.django_db

SHAPE = {"index", "key", "input", "message", "error_type", "code"}


def frames_of(version) -> dict:
    return dict(iter_frame_contents(version))


@pytest.fixture
def root(dataset):
    version = version_create(dataset=dataset, name="root")[0]
    frames_add(version=version, frames=[make_frame(i) for i in range(3)])
    return version


@pytest.fixture
def api(manager):
    return token_client(manager)


def delete(api, version, body):
    return api.post(f"/api/v1/versions/{version.pk}/frames/delete/", body, format="json")


# ---------------------------------------------------------------- duplicates in one add


def test_a_repeated_id_in_one_api_add_is_a_failure_and_the_first_frame_is_used(root, api):
    body = {
        "frames": [
            make_frame(7, n="first"),
            {"sources": [{"uri": "s3://derived"}]},
            make_frame(7, n="second"),
            {"sources": [{"uri": "s3://derived"}], "meta": {"x": 1}},  # the same derived id
        ]
    }
    answer = api.post(f"/api/v1/versions/{root.pk}/frames/", body, format="json").json()
    assert answer["added"] == 2
    assert [(f["index"], f["error_type"], f["code"]) for f in answer["failed"]] == [
        (2, "duplicate", "duplicate"),
        (3, "duplicate", "duplicate"),
    ]
    first = answer["failed"][0]
    assert SHAPE <= set(first) and first["key"] == "f7"
    assert first["frame"] == first["input"] == body["frames"][2]
    assert first["error"] == first["message"] and "record 0 is used" in first["message"]
    assert frames_of(root)["f7"]["meta"] == {"n": "first"}


def test_a_repeated_id_through_the_page_is_a_warning(root, manager):
    page = Client()
    page.force_login(manager)
    frames = (
        '[{"id": "a", "sources": [{"uri": "s3://a"}]}, {"id": "a", "sources": [{"uri": "s3://b"}]}]'
    )
    response = page.post(f"/versions/{root.pk}/frames/", {"frames": frames}, follow=True)
    html = response.content.decode()
    assert "1 frame(s) added." in html
    assert "Frame 1 not added (duplicate)" in html


def test_an_invalid_frame_fails_with_its_key_and_code(root, api):
    body = {"frames": [{"id": "z", "sources": "nope"}]}
    [failure] = api.post(f"/api/v1/versions/{root.pk}/frames/", body, format="json").json()[
        "failed"
    ]
    assert {k: failure[k] for k in ("index", "key", "error_type", "code")} == {
        "index": 0,
        "key": "z",
        "error_type": "validation",
        "code": "invalid",
    }
    assert "sources" in failure["message"]


# ---------------------------------------------------------------- delete: unknown ids


def test_unknown_ids_are_refused_by_name_and_nothing_is_deleted(root, api):
    response = delete(api, root, {"ids": ["f0", "nope", "gone", "nope"]})
    assert response.status_code == 404
    body = response.json()
    assert body["missing"] == ["nope", "gone"] and body["code"] == "not_found"
    assert "2 of the ids" in body["ids"][0] and "'nope'" in body["ids"][0]
    assert set(frames_of(root)) == {"f0", "f1", "f2"}
    with pytest.raises(Exception, match="not frames of this version"):
        frames_delete(version=root, ids=["nope"])


def test_a_repeated_id_is_deleted_once_and_reported(root, api):
    body = delete(api, root, {"ids": ["f0", "f1", "f0"]}).json()
    assert body["deleted"] == 2
    [failure] = body["failed"]
    assert (failure["index"], failure["key"], failure["code"]) == (2, "f0", "duplicate")


def test_delete_input_is_bounded_and_checked(root, api, monkeypatch, viewer):
    monkeypatch.setattr("versions.services.frames.MAX_DELETE_IDS", 2)
    too_many = delete(api, root, {"ids": ["f0", "f1", "f2"]})
    assert too_many.status_code == 400 and "ids" in too_many.json()
    bad = delete(api, root, {"ids": ["f0"], "delete_sources": "yes"})
    assert bad.status_code == 400 and "delete_sources" in bad.json()
    assert delete(token_client(viewer), root, {"ids": ["f0"]}).status_code == 403
    assert set(frames_of(root)) == {"f0", "f1", "f2"}


def test_a_published_version_refuses_deletes(published, api):
    response = delete(api, published, {"ids": ["f0"], "delete_sources": True})
    assert response.status_code == 409
    assert DataRow.objects.filter(pk="f0").exists()


# ---------------------------------------------------------------- delete_sources


def test_delete_sources_removes_the_rows_source_records(root, api):
    kept = delete(api, root, {"ids": ["f1"]}).json()
    assert kept == {"deleted": 1, "sources_deleted": 0, "failed": []}
    assert FrameRevision.objects.filter(data_row_id="f1").exists()  # without: records stay
    answer = delete(api, root, {"ids": ["f0"], "delete_sources": True}).json()
    assert answer == {"deleted": 1, "sources_deleted": 1, "failed": []}
    assert not FrameRevision.objects.filter(data_row_id="f0").exists()
    assert not DataRow.objects.filter(pk="f0").exists()
    # Its global key is free again.
    again = {"frames": [{"id": "other", "global_key": "gk-0", "sources": [{"uri": "s3://o"}]}]}
    added = api.post(f"/api/v1/versions/{root.pk}/frames/", again, format="json").json()
    assert added == {"added": 1, "failed": []}


def test_delete_sources_keeps_what_another_version_holds(published, api):
    child = version_create(dataset=published.dataset, name="child", parent=published)[0]
    answer = delete(api, child, {"ids": ["f1"], "delete_sources": True}).json()
    assert answer == {"deleted": 1, "sources_deleted": 0, "failed": []}
    assert "f1" not in frames_of(child) and "f1" in frames_of(published)
    assert FrameRevision.objects.filter(data_row_id="f1").exists()
    # A frame only the child changed loses the child's record, keeps the published one.
    frames_add(version=child, frames=[make_frame(2, n="changed")])
    assert FrameRevision.objects.filter(data_row_id="f2").count() == 2
    answer = delete(api, child, {"ids": ["f2"], "delete_sources": True}).json()
    assert answer["sources_deleted"] == 1
    assert FrameRevision.objects.filter(data_row_id="f2").count() == 1
    assert frames_of(published)["f2"]["meta"] == {"n": 2}


def test_delete_sources_never_touches_a_row_with_labels(root, labeler, api):
    from versions.services import version_publish

    root = version_publish(version=root)
    draft = version_create(dataset=root.dataset, name="d", parent=root)[0]
    project = Project.objects.create(name="p")
    batch_create(project=project, name="b", data_rows=["f1"])
    entry = queue_next(project=project, user=labeler)
    label_submit(project=project, entry_id=entry.pk, user=labeler, annotation={"x": 1})
    answer = delete(api, draft, {"ids": ["f1"], "delete_sources": True}).json()
    assert answer["deleted"] == 0 and answer["failed"][0]["code"] == "in_use"
    assert DataRow.objects.filter(pk="f1").exists() and "f1" in frames_of(draft)


def test_the_bulk_context_deletes_sources_too(root):
    with frames_bulk(version=root, flush_threshold=10) as bulk:
        bulk.delete_frame("f0", delete_sources=True)
        bulk.delete_frame({"id": "f1"})
    assert set(frames_of(root)) == {"f2"}
    assert not DataRow.objects.filter(pk="f0").exists() and DataRow.objects.filter(pk="f1").exists()


# ---------------------------------------------------------------- one failure shape in jobs


def test_job_errors_of_imports_and_deletes_carry_the_shape(dataset, api, run_jobs):
    with run_jobs():
        imported = api.post(
            f"/api/v1/datasets/{dataset.pk}/data-rows/import/?mode=create",
            [{"global_key": "a", "row_data": "s3://a"}, {"global_key": "a", "row_data": "s3://b"},
             {"global_key": "b", "id": "bad id!"}],
            format="json",
        )  # fmt: skip
    job = Job.objects.get(pk=imported.json()["id"])
    errors = api.get(f"/api/v1/jobs/{job.pk}/errors/").json()["results"]
    assert all(SHAPE <= set(e) for e in errors)
    assert [(e["index"], e["key"], e["code"]) for e in errors] == [
        (1, "a", "duplicate"),
        (2, "b", "invalid"),
    ]
    with run_jobs():
        deleted = api.post(
            f"/api/v1/datasets/{dataset.pk}/data-rows/delete/", {"ids": ["ghost"]}, format="json"
        )
    errors = api.get(f"/api/v1/jobs/{deleted.json()['id']}/errors/").json()["results"]
    assert [(e["index"], e["key"], e["error_type"], e["code"]) for e in errors] == [
        (0, "ghost", "not_found", "not_found")
    ]


def test_a_large_add_reports_its_failures_in_the_same_shape(root, api, run_jobs, monkeypatch):
    monkeypatch.setattr(services, "FRAMES_SYNC_LIMIT", 1)
    body = [make_frame(5), {"id": "bad", "sources": "nope"}]
    with run_jobs():
        response = api.post(f"/api/v1/versions/{root.pk}/frames/", body, format="json")
    errors = api.get(f"/api/v1/jobs/{response.json()['id']}/errors/").json()["results"]
    assert [(e["index"], e["key"], e["code"]) for e in errors] == [(1, "bad", "invalid")]
    assert SHAPE <= set(errors[0])
