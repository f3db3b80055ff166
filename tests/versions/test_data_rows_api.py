"""The data-row view of a dataset's current version, with filters."""

import pytest

pytestmark = pytest.mark.django_db


def test_data_rows_are_the_current_drafts_frames(manager_api, dataset, draft):
    from versions.services import frames_add, frames_delete

    frames_add(
        version=draft,
        frames=[
            {
                "id": "f1",
                "sources": [{"uri": "s3://b/1.jpg"}],
                "meta": {"split": "val"},
                "attachments": [{"type": "TEXT", "value": "hi"}],
            }
        ],
    )
    frames_delete(version=draft, ids=["f4"])
    rows = manager_api.get(f"/api/v1/datasets/{dataset.pk}/data-rows/").json()["results"]
    assert [r["id"] for r in rows] == ["f0", "f1", "f2", "f3"]
    f1 = rows[1]
    assert f1["global_key"] == "gk-1" and f1["row_data"] == "s3://b/1.jpg"
    assert f1["metadata"] == {"split": "val"}
    assert f1["attachments"] == [{"type": "TEXT", "value": "hi"}]


def test_filters_on_global_key_and_metadata(manager_api, dataset, published):
    base = f"/api/v1/datasets/{dataset.pk}/data-rows/"
    assert [r["id"] for r in manager_api.get(base + "?global_key=gk-2").json()["results"]] == ["f2"]
    assert [r["id"] for r in manager_api.get(base + "?metadata__n=3").json()["results"]] == ["f3"]
    lt = manager_api.get(base + "?metadata__n__lt=2").json()["results"]
    assert [r["id"] for r in lt] == ["f0", "f1"]
    among = manager_api.get(base + "?global_key__in=gk-0,gk-4").json()["results"]
    assert [r["id"] for r in among] == ["f0", "f4"]
    bad = manager_api.get(base + "?colour=red")
    assert bad.status_code == 400 and "colour" in bad.json()


def test_a_dataset_without_versions_has_no_rows(manager_api, dataset):
    body = manager_api.get(f"/api/v1/datasets/{dataset.pk}/data-rows/").json()
    assert body == {"next": None, "previous": None, "results": []}
