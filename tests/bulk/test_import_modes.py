"""Every mode × format × error mode of the data-row import, through the API, on this database."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboard.models import Job

from .conftest import ENCODERS, errors_of, rows, state_of

pytestmark = pytest.mark.django_db

FORMATS = ["csv", "json", "ndjson"]


@pytest.fixture
def seeded(draft, run_import):
    """gk-0, gk-1, gk-2 in the draft."""
    job = run_import(draft, ENCODERS["ndjson"](rows(3)), "ndjson", mode="create")
    assert job.counts["created"] == 3
    return draft


def upload(manager_api, dataset, body, fmt, **query):
    url = f"/api/v1/datasets/{dataset.pk}/data-rows/import/?" + "&".join(
        f"{k}={v}" for k, v in query.items()
    )
    return manager_api.post(
        url, {"file": SimpleUploadedFile(f"rows.{fmt}", body)}, format="multipart"
    )


def mixed_input():
    """gk-1 changed, gk-2 as it is, gk-3 new, and a new row with a bad id."""
    changed, same = rows(2, start=1)
    changed["metadata"] = {"n": 1, "split": "val"}
    return [
        changed,
        same,
        rows(1, start=3)[0],
        {"global_key": "gk-bad", "id": "bad id!", "metadata": {"n": "x"}},
    ]


EXPECTED = {
    # mode: (counts, failed indices)
    "create": ({"created": 1, "updated": 0, "unchanged": 0, "deleted": 0}, [0, 1, 3]),
    "upsert": ({"created": 1, "updated": 1, "unchanged": 1, "deleted": 0}, [3]),
    "sync": ({"created": 1, "updated": 1, "unchanged": 1, "deleted": 1}, [3]),
}


@pytest.mark.parametrize("on_error", ["continue", "atomic"])
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("mode", ["create", "upsert", "sync"])
def test_mode_format_error_mode(mode, fmt, on_error, seeded, dataset, manager_api, run_jobs):
    before = state_of(seeded)
    with run_jobs():
        response = upload(
            manager_api, dataset, ENCODERS[fmt](mixed_input()), fmt, mode=mode, on_error=on_error
        )
    assert response.status_code == 202, response.json()
    assert response["Location"].endswith(f"/api/v1/jobs/{response.json()['id']}/")
    job = Job.objects.get(pk=response.json()["id"])
    counts, failed = EXPECTED[mode]
    assert [e["index"] for e in errors_of(job)] == failed
    after = state_of(seeded)
    if on_error == "atomic":
        assert job.status == Job.Status.FAILED
        assert "nothing was written" in job.error
        assert after == before
        assert job.counts["failed"] == len(failed)
        assert all(job.counts[k] == 0 for k in counts)
        return
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert {k: job.counts[k] for k in counts} == counts
    assert job.counts["failed"] == len(failed)
    assert (job.progress_done, job.progress_total) == (4, 4)
    assert "gk-3" in {v[0] for v in after.values()}
    by_key = {v[0]: v for v in after.values()}
    if mode == "create":
        assert by_key["gk-1"][2] == {"n": 1}
    else:
        assert by_key["gk-1"][2] == {"n": 1, "split": "val"}
    assert ("gk-0" in by_key) == (mode != "sync")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("mode", ["create", "upsert", "sync"])
def test_atomic_with_clean_input_writes_everything(mode, fmt, seeded, run_import):
    job = run_import(seeded, ENCODERS[fmt](rows(2, start=3)), fmt, mode=mode, on_error="atomic")
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.counts["created"] == 2
    assert job.counts["deleted"] == (3 if mode == "sync" else 0)
    assert len(state_of(seeded)) == (2 if mode == "sync" else 5)


def test_error_rows_name_index_key_input_and_reason(seeded, run_import):
    job = run_import(seeded, ENCODERS["ndjson"](mixed_input()), "ndjson", mode="create")
    error = job.row_errors.get(index=0)
    assert error.key == "gk-1"
    assert error.input["global_key"] == "gk-1"
    assert "already exists" in error.message and error.error_type == "exists"
    bad = job.row_errors.get(index=3)
    assert bad.message.startswith("id: ")


def test_missing_optional_fields_take_defaults_and_rows_may_differ(draft, run_import):
    body = ENCODERS["ndjson"](
        [
            {"global_key": "a", "row_data": "s3://b/a.jpg"},
            {"global_key": "b", "row_data": "s3://b/b.jpg", "metadata": {"x": 1}},
            {"global_key": "c", "row_data": "s3://b/c.jpg", "attachments": [{"type": "t"}]},
        ]
    )
    job = run_import(draft, body, "ndjson", mode="create")
    assert job.counts["created"] == 3
    by_key = {v[0]: v for v in state_of(draft).values()}
    assert by_key["a"][2:] == ({}, [])
    assert by_key["b"][2:] == ({"x": 1}, [])
    assert by_key["c"][2:] == ({}, [{"type": "t"}])


def test_upsert_keeps_fields_the_file_leaves_out(seeded, run_import):
    body = ENCODERS["csv"]([{"global_key": "gk-1", "row_data": "s3://b/new.jpg"}])
    job = run_import(seeded, body, "csv", mode="upsert")
    assert job.counts["updated"] == 1
    by_key = {v[0]: v for v in state_of(seeded).values()}
    assert by_key["gk-1"][1:3] == ("s3://b/new.jpg", {"n": 1})


def test_upsert_by_id(seeded, run_import):
    current = state_of(seeded)
    row_id = next(k for k, v in current.items() if v[0] == "gk-2")
    body = ENCODERS["ndjson"](
        [{"id": row_id, "metadata": {"n": 20}}, {"id": "new-1", "row_data": "s3://b/x.jpg"}]
    )
    job = run_import(seeded, body, "ndjson", mode="upsert", key="id")
    assert (job.counts["updated"], job.counts["created"]) == (1, 1), job.error
    after = state_of(seeded)
    assert after[row_id][2] == {"n": 20}
    assert after["new-1"] == (None, "s3://b/x.jpg", {}, [])


def test_sync_only_touches_the_target_version(dataset, seeded, run_import):
    from versions.services import dataset_create, version_create

    other = version_create(dataset=dataset_create(name="other")[0], name="d")[0]
    run_import(other, ENCODERS["ndjson"](rows(2, start=10)), "ndjson", mode="create")
    job = run_import(seeded, ENCODERS["ndjson"](rows(1)), "ndjson", mode="sync")
    assert job.counts["deleted"] == 2
    assert len(state_of(other)) == 2


def test_json_array_body_is_accepted(dataset, manager_api, run_jobs):
    with run_jobs():
        response = manager_api.post(
            f"/api/v1/datasets/{dataset.pk}/data-rows/import/?mode=create", rows(3), format="json"
        )
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == Job.Status.SUCCEEDED and job.counts["created"] == 3


def test_first_write_creates_a_draft_child_of_the_latest_published(dataset, manager_api, run_jobs):
    from versions.models import DatasetVersion
    from versions.services import version_create, version_publish

    root = version_create(dataset=dataset, name="v1")[0]
    version_publish(version=root)
    with run_jobs():
        response = manager_api.post(
            f"/api/v1/datasets/{dataset.pk}/data-rows/import/", rows(2), format="json"
        )
    assert response.status_code == 202
    draft = DatasetVersion.objects.get(dataset=dataset, status="draft")
    assert (draft.name, draft.parent_id) == ("draft", root.pk)
    assert len(state_of(draft)) == 2
