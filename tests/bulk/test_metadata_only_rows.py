"""A data row without row_data (a metadata-only record, as the ORM seed's flat records are):
created by id through every import format, merged on upsert, given a source later, updated
and deleted in bulk, read back with an empty row_data; a frame still needs a source."""

import json

import pytest

from dashboard.models import Job

from .conftest import ENCODERS, errors_of, state_of

pytestmark = pytest.mark.django_db

FORMATS = ["csv", "json", "ndjson"]


def flat(i, **meta):
    return {"id": f"u-{i}", "metadata": {"name": f"User {i}", **meta}}


@pytest.mark.parametrize("fmt", FORMATS)
def test_create_by_id_without_row_data(fmt, draft, run_import):
    body = ENCODERS[fmt]([flat(0, age=28), flat(1)])
    job = run_import(draft, body, fmt, mode="create", key="id")
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.counts["created"] == 2 and errors_of(job) == []
    state = state_of(draft)
    assert state["u-0"] == (None, "", {"name": "User 0", "age": 28}, [])
    assert state["u-1"] == (None, "", {"name": "User 1"}, [])


def test_without_id_and_row_data_the_global_key_gives_the_id(draft, run_import):
    body = ENCODERS["json"]([{"global_key": "g", "metadata": {"name": "x"}}])
    job = run_import(draft, body, "json", mode="create")
    assert job.counts["created"] == 1, errors_of(job)
    [(row_id, row)] = state_of(draft).items()
    assert row == ("g", "", {"name": "x"}, [])
    again = ENCODERS["csv"]([{"global_key": "g", "metadata": {"age": 3}}])
    job = run_import(draft, again, "csv", mode="upsert")
    assert job.counts["updated"] == 1, errors_of(job)
    assert state_of(draft) == {row_id: ("g", "", {"name": "x", "age": 3}, [])}
    job = run_import(draft, again, "csv", mode="create")
    assert [e["error_type"] for e in errors_of(job)] == ["exists"]


def test_no_id_row_data_or_global_key_is_a_row_error(draft, run_import):
    job = run_import(draft, ENCODERS["json"]([{"metadata": {"a": 1}}]), "json", key="id")
    [error] = errors_of(job)
    assert error["message"] == "id: give an id, or row_data or global_key to derive it from."
    assert state_of(draft) == {}


def test_create_by_id_with_global_key_and_no_row_data(draft, run_import):
    body = ENCODERS["ndjson"]([{"id": "u-9", "global_key": "g-9", "metadata": {"a": 1}}])
    job = run_import(draft, body, "ndjson", mode="create")
    assert job.counts["created"] == 1, errors_of(job)
    assert state_of(draft)["u-9"] == ("g-9", "", {"a": 1}, [])


@pytest.mark.parametrize("mode", ["upsert", "sync"])
def test_upsert_merges_metadata_and_a_blank_row_data_changes_nothing(mode, draft, run_import):
    run_import(draft, ENCODERS["json"]([flat(0, age=28)]), "json", mode="create", key="id")
    again = {"id": "u-0", "row_data": "", "metadata": {"email": "a@x", "age": None}}
    job = run_import(draft, ENCODERS["csv"]([again]), "csv", mode=mode, key="id")
    assert job.counts["updated"] == 1, errors_of(job)
    assert state_of(draft)["u-0"] == (None, "", {"name": "User 0", "email": "a@x"}, [])
    same = run_import(draft, ENCODERS["csv"]([again]), "csv", mode=mode, key="id")
    assert same.counts["unchanged"] == 1


def test_a_metadata_only_row_gains_a_source(draft, run_import, manager_api, dataset):
    run_import(draft, ENCODERS["json"]([flat(0)]), "json", mode="create", key="id")
    job = run_import(
        draft, ENCODERS["json"]([{"id": "u-0", "row_data": "s3://b/0.jpg"}]), "json",
        mode="upsert", key="id",
    )  # fmt: skip
    assert job.counts["updated"] == 1, errors_of(job)
    assert state_of(draft)["u-0"][1] == "s3://b/0.jpg"
    rows = manager_api.get(f"/api/v1/datasets/{dataset.pk}/data-rows/").json()["results"]
    assert [(r["id"], r["row_data"]) for r in rows] == [("u-0", "s3://b/0.jpg")]


def test_list_frames_update_delete_and_export(draft, run_import, manager_api, dataset, run_jobs):
    run_import(draft, ENCODERS["json"]([flat(0), flat(1)]), "json", mode="create", key="id")
    base = f"/api/v1/datasets/{dataset.pk}/data-rows/"
    rows = manager_api.get(base + "?metadata__name=User 1").json()["results"]
    assert [(r["id"], r["row_data"], r["metadata"]) for r in rows] == [
        ("u-1", "", {"name": "User 1"})
    ]
    frame = manager_api.get(f"/api/v1/versions/{draft.pk}/frames/u-1/").json()
    assert frame["sources"] == [] and frame["meta"] == {"name": "User 1"}
    with run_jobs():
        response = manager_api.post(
            base + "update/",
            {"filter": {"id__in": ["u-0"]}, "set": {"metadata": {"active": True}}},
            format="json",
        )
    assert response.status_code == 202, response.json()
    job = Job.objects.get(pk=response.json()["id"])
    assert job.counts["updated"] == 1, errors_of(job)
    assert state_of(draft)["u-0"][2] == {"name": "User 0", "active": True}
    exported = manager_api.get(base + "export/?format=ndjson")
    lines = [json.loads(line) for line in b"".join(exported.streaming_content).splitlines()]
    assert {(r["id"], r["row_data"]) for r in lines} == {("u-0", ""), ("u-1", "")}
    with run_jobs():
        response = manager_api.post(base + "delete/", {"ids": ["u-0"]}, format="json")
    assert response.status_code == 202, response.json()
    assert set(state_of(draft)) == {"u-1"}


def test_frames_door_merges_meta_and_bulk_update_gives_a_source(
    manager_api, draft, dataset, run_import, run_jobs
):
    run_import(draft, ENCODERS["json"]([flat(0)]), "json", mode="create", key="id")
    response = manager_api.patch(
        f"/api/v1/versions/{draft.pk}/frames/",
        {"frames": [{"id": "u-0", "meta": {"age": 3}}]},
        format="json",
    )
    assert response.status_code == 200 and response.json()["updated"] == 1, response.json()
    assert state_of(draft)["u-0"] == (None, "", {"name": "User 0", "age": 3}, [])
    with run_jobs():
        response = manager_api.post(
            f"/api/v1/datasets/{dataset.pk}/data-rows/update/",
            {"filter": {"id": "u-0"}, "set": {"row_data": "s3://b/u0.jpg"}},
            format="json",
        )
    assert Job.objects.get(pk=response.json()["id"]).counts["updated"] == 1
    assert state_of(draft)["u-0"][1] == "s3://b/u0.jpg"
    frame = manager_api.get(f"/api/v1/versions/{draft.pk}/frames/u-0/").json()
    assert frame["sources"] == [{"id": "default", "uri": "s3://b/u0.jpg"}]


def test_a_frame_still_needs_a_source(manager_api, draft):
    response = manager_api.post(
        f"/api/v1/versions/{draft.pk}/frames/", {"frames": [{"id": "f", "meta": {}}]},
        format="json",
    )  # fmt: skip
    assert response.status_code in (200, 400), response.json()
    assert "f" not in state_of(draft)


def test_the_labeling_page_says_a_row_has_no_row_data(client, draft, run_import):
    from batches.services import batch_create
    from dashboard.roles import Role

    from ..factories import ProjectFactory, UserFactory

    run_import(draft, ENCODERS["json"]([flat(0)]), "json", mode="create", key="id")
    project = ProjectFactory(label_classes=["a"])
    batch_create(project=project, name="b", data_rows=["u-0"], priority=1)
    client.force_login(UserFactory(username="lab", role=Role.LABELER))
    shown = client.post(f"/projects/{project.pk}/label/", {"action": "next"}, follow=True)
    shown = shown.content.decode()
    assert "u-0" in shown and "(no row data: a metadata-only record)" in shown
