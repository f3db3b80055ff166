"""Datasets over REST: create (201/200/409), list with tags, get, patch, delete."""

import pytest

from versions.models import Dataset

pytestmark = pytest.mark.django_db


def test_create_returns_201_then_200_for_the_existing_one_then_409_if_asked(manager_api):
    body = {"name": "cars", "tags": ["a"], "description": "d", "dataset_project": "proj"}
    first = manager_api.post("/api/v1/datasets/", body, format="json")
    assert first.status_code == 201
    assert first.json()["dataset_project"] == "proj" and first.json()["tags"] == ["a"]
    again = manager_api.post("/api/v1/datasets/", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    refused = manager_api.post(
        "/api/v1/datasets/", {**body, "raise_if_exists": True}, format="json"
    )
    assert refused.status_code == 409 and "name" in refused.json()
    assert Dataset.objects.count() == 1


def test_create_without_name_is_400_naming_it(manager_api):
    response = manager_api.post("/api/v1/datasets/", {"tags": ["a"]}, format="json")
    assert response.status_code == 400 and "name" in response.json()


def test_list_is_sorted_by_creation_and_filters_with_the_tag_language(manager_api):
    for name, tags in [("one", ["best"]), ("two", ["best", "debug"]), ("three", ["other"])]:
        manager_api.post("/api/v1/datasets/", {"name": name, "tags": tags}, format="json")
    names = [d["name"] for d in manager_api.get("/api/v1/datasets/").json()["results"]]
    assert names == ["one", "two", "three"]
    best = manager_api.get("/api/v1/datasets/?tags=best&tags=-debug").json()["results"]
    assert [d["name"] for d in best] == ["one"]
    both = manager_api.get("/api/v1/datasets/?tags=best&tags=other").json()["results"]
    assert [d["name"] for d in both] == ["one", "two", "three"]
    bad = manager_api.get("/api/v1/datasets/?tags=__$xor")
    assert bad.status_code == 400 and "tags" in bad.json()


def test_get_patch_delete(manager_api, viewer_api):
    dataset_id = manager_api.post("/api/v1/datasets/", {"name": "x"}, format="json").json()["id"]
    assert viewer_api.get(f"/api/v1/datasets/{dataset_id}/").json()["name"] == "x"
    assert (
        viewer_api.patch(
            f"/api/v1/datasets/{dataset_id}/", {"name": "y"}, format="json"
        ).status_code
        == 403
    )
    patched = manager_api.patch(
        f"/api/v1/datasets/{dataset_id}/", {"name": "y", "tags": ["t"]}, format="json"
    )
    assert patched.json()["name"] == "y" and patched.json()["tags"] == ["t"]
    assert manager_api.delete(f"/api/v1/datasets/{dataset_id}/").status_code == 204
    assert manager_api.get(f"/api/v1/datasets/{dataset_id}/").status_code == 404


def test_rename_onto_an_existing_name_is_409(manager_api):
    manager_api.post("/api/v1/datasets/", {"name": "a"}, format="json")
    b = manager_api.post("/api/v1/datasets/", {"name": "b"}, format="json").json()["id"]
    assert (
        manager_api.patch(f"/api/v1/datasets/{b}/", {"name": "a"}, format="json").status_code == 409
    )


def test_delete_is_refused_while_rows_are_in_a_batch(manager_api, published):
    from batches.services import batch_create, project_create

    project = project_create(name="p")
    batch_create(project=project, name="b", data_rows=["f1"])
    response = manager_api.delete(f"/api/v1/datasets/{published.dataset_id}/")
    assert response.status_code == 409 and "queue entries" in response.json()["detail"]
    assert Dataset.objects.filter(pk=published.dataset_id).exists()


def test_delete_names_every_kind_of_use_including_labels(manager_api, labeler, published):
    from batches.models import QueueEntry
    from batches.services import batch_create, label_create, project_create

    project = project_create(name="p")
    batch_create(project=project, name="b", data_rows=["f1"])
    label_create(entry=QueueEntry.objects.get(), author=labeler, annotation={})
    response = manager_api.delete(f"/api/v1/datasets/{published.dataset_id}/")
    assert response.status_code == 409
    assert "queue entries" in response.json()["detail"] and "labels" in response.json()["detail"]


def test_unknown_dataset_is_404(manager_api):
    assert manager_api.get("/api/v1/datasets/nope/").status_code == 404
    assert manager_api.get("/api/v1/datasets/nope/versions/").status_code == 404


def test_delete_removes_the_whole_chain_and_nothing_else(manager_api, published):
    from versions.models import DataRow, DatasetVersion, FrameEntry, FrameRevision
    from versions.services import dataset_create, frames_add, version_create

    dataset = published.dataset
    child, _ = version_create(dataset=dataset, name="v2", parent=published)
    frames_add(version=child, frames=[{"id": "new", "sources": [{"uri": "s3://n"}]}])
    other, _ = dataset_create(name="other")
    kept, _ = version_create(dataset=other, name="v")
    frames_add(version=kept, frames=[{"id": "keep", "sources": [{"uri": "s3://k"}]}])

    assert manager_api.delete(f"/api/v1/datasets/{dataset.pk}/").status_code == 204
    assert not Dataset.objects.filter(pk=dataset.pk).exists()
    assert not DatasetVersion.objects.filter(dataset_id=dataset.pk).exists()
    assert list(DataRow.objects.values_list("id", flat=True)) == ["keep"]
    assert FrameRevision.objects.count() == 1 and FrameEntry.objects.count() == 1


def test_a_use_that_appears_during_the_delete_is_a_409_and_nothing_goes(
    manager_api, published, monkeypatch
):
    from batches.services import batch_create, project_create
    from versions.models import DataRow
    from versions.services import datasets

    batch_create(project=project_create(name="p"), name="b", data_rows=["f1"])
    monkeypatch.setattr(datasets, "_external_references", lambda rows: [])  # missed it
    response = manager_api.delete(f"/api/v1/datasets/{published.dataset_id}/")
    assert response.status_code == 409 and "came into use" in response.json()["detail"]
    assert Dataset.objects.filter(pk=published.dataset_id).exists()
    assert DataRow.objects.filter(dataset_id=published.dataset_id).count() == 5
