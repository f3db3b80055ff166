"""Update every row matching a filter, delete by filter or ids: set-based, through jobs, with
400s for bad filters and per-row refusals for rows that carry labels."""

import pytest

from dashboard.models import Job

from .conftest import ENCODERS, errors_of, rows, state_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(draft, run_import):
    items = rows(6)
    for item in items:
        item["metadata"]["split"] = "train" if item["metadata"]["n"] < 4 else "test"
    run_import(draft, ENCODERS["ndjson"](items), "ndjson", mode="create")
    return draft


def call(manager_api, dataset, verb, body, run_jobs):
    with run_jobs():
        response = manager_api.post(
            f"/api/v1/datasets/{dataset.pk}/data-rows/{verb}/", body, format="json"
        )
    if response.status_code != 202:
        return response, None
    return response, Job.objects.get(pk=response.json()["id"])


def by_key(version):
    return {v[0]: v for v in state_of(version).values()}


def test_update_by_filter_merges_metadata_and_removes_null_keys(
    loaded, dataset, manager_api, run_jobs
):
    response, job = call(
        manager_api,
        dataset,
        "update",
        {
            "filter": {"metadata__split": "train", "global_key__in": ["gk-0", "gk-1", "gk-5"]},
            "set": {"metadata": {"split": "val", "n": None, "new": [1]}},
        },
        run_jobs,
    )
    assert response.status_code == 202
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.counts["updated"], job.progress_total) == (2, 2)
    rows_now = by_key(loaded)
    assert rows_now["gk-0"][2] == {"split": "val", "new": [1]}
    assert rows_now["gk-2"][2] == {"n": 2, "split": "train"}
    assert rows_now["gk-5"][2] == {"n": 5, "split": "test"}


def test_update_row_data_and_unchanged_rows(loaded, dataset, manager_api, run_jobs):
    _, job = call(
        manager_api,
        dataset,
        "update",
        {"filter": {"global_key": "gk-3"}, "set": {"row_data": "s3://new/3.jpg"}},
        run_jobs,
    )
    assert job.counts["updated"] == 1
    assert by_key(loaded)["gk-3"][1] == "s3://new/3.jpg"
    _, job = call(
        manager_api,
        dataset,
        "update",
        {"filter": {"metadata__split": "test"}, "set": {"metadata": {"split": "test"}}},
        run_jobs,
    )
    assert job.counts["unchanged"] == 2 and job.counts["updated"] == 0


@pytest.mark.parametrize(
    "body,field",
    [
        ({"filter": {"colour": "red"}, "set": {"metadata": {}}}, "colour"),
        ({"filter": {"global_key__near": "x"}, "set": {"metadata": {}}}, "global_key__near"),
        ({"filter": {}, "set": {"global_key": "x"}}, "set"),
        ({"filter": {}, "set": {"colour": "x"}}, "set"),
        ({"filter": {}, "set": {"metadata": {"a.b": 1}}}, "set"),
        ({"filter": {}, "set": {}}, "set"),
        ({"filter": []}, "set"),
        ({"filter": "x", "set": {"metadata": {}}}, "filter"),
    ],
)
def test_bad_update_is_a_400(body, field, loaded, dataset, manager_api, run_jobs):
    response, job = call(manager_api, dataset, "update", body, run_jobs)
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert job is None


def test_delete_by_filter(loaded, dataset, manager_api, run_jobs):
    _, job = call(manager_api, dataset, "delete", {"filter": {"metadata__split": "test"}}, run_jobs)
    assert job.status == Job.Status.SUCCEEDED and job.counts["deleted"] == 2
    assert sorted(by_key(loaded)) == ["gk-0", "gk-1", "gk-2", "gk-3"]


def test_delete_by_ids_reports_unknown_and_duplicate_ids(loaded, dataset, manager_api, run_jobs):
    ids = {v[0]: k for k, v in state_of(loaded).items()}
    _, job = call(
        manager_api,
        dataset,
        "delete",
        {"ids": [ids["gk-0"], "nope", ids["gk-1"], ids["gk-0"]]},
        run_jobs,
    )
    assert job.status == Job.Status.SUCCEEDED
    assert job.counts["deleted"] == 2
    assert [(e["index"], e["error_type"]) for e in errors_of(job)] == [
        (1, "not_found"),
        (3, "duplicate"),
    ]
    assert len(state_of(loaded)) == 4


@pytest.mark.parametrize(
    "body", [{}, {"filter": {}}, {"ids": []}, {"ids": "a"}, {"ids": ["a"], "filter": {"id": "a"}}]
)
def test_bad_delete_is_a_400(body, loaded, dataset, manager_api, run_jobs):
    response, _ = call(manager_api, dataset, "delete", body, run_jobs)
    assert response.status_code == 400, response.json()


def test_rows_with_labels_are_refused_per_row(loaded, dataset, manager_api, run_jobs, manager):
    from batches.models import Batch, Label, Project

    project = Project.objects.create(name="p")
    batch = Batch.objects.create(project=project, name="b")
    row_id = next(k for k, v in state_of(loaded).items() if v[0] == "gk-1")
    Label.objects.create(
        project=project, batch=batch, data_row_id=row_id, author=manager, annotation={}
    )
    _, job = call(
        manager_api, dataset, "delete", {"filter": {"metadata__split": "train"}}, run_jobs
    )
    assert job.counts["deleted"] == 3
    assert [(e["key"], e["error_type"]) for e in errors_of(job)] == [(row_id, "in_use")]
    assert "gk-1" in by_key(loaded)


def test_writes_go_to_a_draft_and_published_versions_are_refused(dataset, manager_api, run_jobs):
    from versions.services import version_create

    version = version_create(dataset=dataset, name="d")[0]
    version.status, version.published_at = "published", version.created_at
    version.save()
    response = manager_api.post(
        f"/api/v1/versions/{version.pk}/frames/import/",
        [{"sources": [{"uri": "s3://a"}]}],
        format="json",
    )
    assert response.status_code == 409
