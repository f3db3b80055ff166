"""Versions over REST: create, current, by name, list, get/patch, remove, commit, publish,
snapshot, stats, metadata and mask labels — with every error path."""

import pytest

from versions.models import DatasetVersion, FrameEntry
from versions.services import version_create

pytestmark = pytest.mark.django_db


def url(path):
    return f"/api/v1/{path}"


def test_create_version_with_parent_by_id_or_name_and_draft_returned_again(
    manager_api, dataset, published
):
    by_id = manager_api.post(
        url(f"datasets/{dataset.pk}/versions/"),
        {"name": "next", "parent": published.pk},
        format="json",
    )
    assert by_id.status_code == 201
    body = by_id.json()
    assert body["parent"] == published.pk and body["status"] == "draft"
    assert set(body) >= {
        "id",
        "dataset",
        "name",
        "description",
        "status",
        "parent",
        "metadata",
        "created_at",
        "updated_at",
        "published_at",
        "stats",
    }
    again = manager_api.post(
        url(f"datasets/{dataset.pk}/versions/"), {"name": "next", "parent": "v1"}, format="json"
    )
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    refused = manager_api.post(
        url(f"datasets/{dataset.pk}/versions/"),
        {"name": "next", "raise_if_exists": True},
        format="json",
    )
    assert refused.status_code == 409
    by_name = manager_api.post(
        url(f"datasets/{dataset.pk}/versions/"), {"name": "other", "parent": ["v1"]}, format="json"
    )
    assert by_name.status_code == 201 and by_name.json()["parent"] == published.pk


def test_published_versions_of_the_same_name_do_not_count_as_existing(manager_api, published):
    response = manager_api.post(
        url(f"datasets/{published.dataset_id}/versions/"),
        {"name": "v1", "raise_if_exists": True},
        format="json",
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("parent", "status", "field"),
    [
        (["a", "b"], 400, "parent"),
        ([], 400, "parent"),
        ("ghost", 404, "parent"),  # names no version of the dataset
        (5, 400, "parent"),
    ],
)
def test_bad_parents_are_refused_naming_the_field(manager_api, dataset, parent, status, field):
    response = manager_api.post(
        url(f"datasets/{dataset.pk}/versions/"), {"name": "x", "parent": parent}, format="json"
    )
    assert response.status_code == status and field in response.json()


def test_a_draft_parent_is_409_publish_it_first(manager_api, dataset, draft):
    response = manager_api.post(
        url(f"datasets/{dataset.pk}/versions/"), {"name": "x", "parent": draft.pk}, format="json"
    )
    assert response.status_code == 409 and "publish it first" in str(response.json())


def test_current_is_the_most_recently_updated_draft(manager_api, dataset, published, draft):
    other, _ = version_create(dataset=dataset, name="v3", parent=published)
    assert manager_api.get(url(f"datasets/{dataset.pk}/versions/current/")).json()["id"] == other.pk
    manager_api.post(
        url(f"versions/{draft.pk}/frames/"),
        [{"id": "f9", "sources": [{"uri": "s3://b/9"}]}],
        format="json",
    )
    assert manager_api.get(url(f"datasets/{dataset.pk}/versions/current/")).json()["id"] == draft.pk


def test_current_without_any_draft_is_404(manager_api, dataset, published):
    assert manager_api.get(url(f"datasets/{dataset.pk}/versions/current/")).status_code == 404


def test_by_name_and_raise_on_multiple(manager_api, dataset, published, draft):
    from versions.services import version_snapshot

    version_snapshot(version=draft, publish_name="v1")  # now two versions named v1
    found = manager_api.get(url(f"datasets/{dataset.pk}/versions/by-name/v1/"))
    assert found.status_code == 200 and found.json()["name"] == "v1"
    multiple = manager_api.get(
        url(f"datasets/{dataset.pk}/versions/by-name/v1/?raise_on_multiple=true")
    )
    assert multiple.status_code == 409
    assert manager_api.get(url(f"datasets/{dataset.pk}/versions/by-name/zz/")).status_code == 404


def test_list_newest_updated_first_with_only_published_or_only_draft(
    manager_api, dataset, published, draft
):
    base = url(f"datasets/{dataset.pk}/versions/")
    assert [v["id"] for v in manager_api.get(base).json()["results"]] == [draft.pk, published.pk]
    assert [v["id"] for v in manager_api.get(base + "?only_published=true").json()["results"]] == [
        published.pk
    ]
    assert [v["id"] for v in manager_api.get(base + "?only_draft=1").json()["results"]] == [
        draft.pk
    ]
    both = manager_api.get(base + "?only_published=true&only_draft=true")
    assert both.status_code == 200 and both.json()["results"] == []  # no version is both


def test_patch_renames_and_unknown_version_is_404(manager_api, draft):
    response = manager_api.patch(
        url(f"versions/{draft.pk}/"), {"description": "new"}, format="json"
    )
    assert response.json()["description"] == "new"
    assert manager_api.get(url("versions/nope/")).status_code == 404


def test_remove_published_needs_force_and_children_stay_readable(manager_api, published, draft):
    assert manager_api.delete(url(f"versions/{published.pk}/")).status_code == 409
    assert manager_api.delete(url(f"versions/{published.pk}/?force=true")).status_code == 204
    assert manager_api.get(url(f"versions/{published.pk}/")).status_code == 404
    frames = manager_api.get(url(f"versions/{draft.pk}/frames/")).json()["results"]
    assert [f["id"] for f in frames] == ["f0", "f1", "f2", "f3", "f4"]
    # Removing the last child purges the hidden parent too.
    assert manager_api.delete(url(f"versions/{draft.pk}/")).status_code == 204
    assert not DatasetVersion.objects.exists() and not FrameEntry.objects.exists()


def test_commit_refreshes_stats_and_publish_locks(manager_api, draft):
    manager_api.post(
        url(f"versions/{draft.pk}/frames/"),
        {
            "frames": [
                {
                    "id": "g1",
                    "sources": [{"uri": "s3://x/1"}, {"id": "depth", "uri": "s3://x/1d"}],
                    "rois": [{"label": ["person"]}],
                }
            ]
        },
        format="json",
    )
    committed = manager_api.post(url(f"versions/{draft.pk}/commit/")).json()
    assert committed["stats"]["frame_count"] == 6
    assert committed["stats"]["source_count"] == 7
    assert committed["stats"]["label_counts"] == {"car": 5, "person": 1}
    stats = manager_api.get(url(f"versions/{draft.pk}/stats/")).json()
    assert set(stats) == {"frame_count", "source_count", "label_counts", "last_updated"}
    published = manager_api.post(url(f"versions/{draft.pk}/publish/"))
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert published.json()["published_at"]
    assert manager_api.post(url(f"versions/{draft.pk}/publish/")).status_code == 409


def test_writes_to_a_published_version_are_409_and_change_nothing(manager_api, published):
    frame = {"id": "f1", "sources": [{"uri": "s3://z"}]}
    for method, path, body in [
        ("post", "frames/", [frame]),
        ("patch", "frames/", {"frames": [frame]}),
        ("post", "frames/delete/", {"ids": ["f1"]}),
        ("put", "metadata/", {"a": 1}),
        ("put", "mask-labels/", [{"value": [1, 2, 3], "labels": ["x"]}]),
        ("post", "snapshot/", {}),
    ]:
        response = getattr(manager_api, method)(
            url(f"versions/{published.pk}/{path}"), body, format="json"
        )
        assert response.status_code == 409, (method, path)
    frames = manager_api.get(url(f"versions/{published.pk}/frames/?ids=f1")).json()["results"]
    assert frames[0]["sources"][0]["uri"] == "s3://b/1.jpg"
    assert manager_api.get(url(f"versions/{published.pk}/metadata/")).json() == {}


def test_snapshot_publishes_and_returns_a_draft_child_with_defaults(manager_api, manager, draft):
    response = manager_api.post(url(f"versions/{draft.pk}/snapshot/"), {}, format="json")
    assert response.status_code == 201
    child = response.json()
    assert child["name"] == "v2" and child["status"] == "draft" and child["parent"] == draft.pk
    parent = manager_api.get(url(f"versions/{draft.pk}/")).json()
    assert parent["status"] == "published" and parent["name"].startswith("snapshot 20")
    assert parent["description"].startswith("published at 20")
    assert parent["description"].endswith("by manager")


def test_snapshot_with_names_comments_and_metadata(manager_api, draft):
    response = manager_api.post(
        url(f"versions/{draft.pk}/snapshot/"),
        {
            "publish_name": "release-1",
            "publish_comment": "first",
            "publish_metadata": {"k": 1},
            "child_name": "work",
            "child_comment": "next round",
            "child_metadata": {"c": True},
        },
        format="json",
    )
    child = response.json()
    assert (child["name"], child["description"], child["metadata"]) == (
        "work",
        "next round",
        {"c": True},
    )
    parent = manager_api.get(url(f"versions/{draft.pk}/")).json()
    assert (parent["name"], parent["description"], parent["metadata"]) == (
        "release-1",
        "first",
        {"k": 1},
    )


def test_snapshot_copies_no_frames(manager_api, draft):
    before = FrameEntry.objects.count()
    manager_api.post(url(f"versions/{draft.pk}/snapshot/"), {}, format="json")
    assert FrameEntry.objects.count() == before


@pytest.mark.parametrize("bad", [{"a.b": 1}, {"x": {"$y": 1}}, {"l": [{"k.z": 1}]}])
def test_metadata_keys_with_dollar_or_dot_are_400_at_any_depth(manager_api, draft, bad):
    response = manager_api.put(url(f"versions/{draft.pk}/metadata/"), bad, format="json")
    assert response.status_code == 400 and "metadata" in response.json()
    snap = manager_api.post(
        url(f"versions/{draft.pk}/snapshot/"), {"child_metadata": bad}, format="json"
    )
    assert snap.status_code == 400 and "child_metadata" in snap.json()
    assert manager_api.get(url(f"versions/{draft.pk}/")).json()["status"] == "draft"


def test_metadata_put_replaces_user_keys_and_keeps_mask_labels(manager_api, draft):
    masks = [
        {"value": [0, 0, 0], "labels": ["background"]},
        {"value": [1, 1, 1], "labels": ["person", "sitting"]},
    ]
    assert (
        manager_api.put(url(f"versions/{draft.pk}/mask-labels/"), masks, format="json").json()
        == masks
    )
    manager_api.put(url(f"versions/{draft.pk}/metadata/"), {"a": 1, "b": {"c": 2}}, format="json")
    replaced = manager_api.put(url(f"versions/{draft.pk}/metadata/"), {"z": 0}, format="json")
    assert replaced.json() == {"z": 0, "mask_labels": masks}
    assert manager_api.get(url(f"versions/{draft.pk}/mask-labels/")).json() == masks


@pytest.mark.parametrize(
    "bad",
    [
        [{"value": [0, 0], "labels": ["x"]}],
        [{"value": [0, 0, 256], "labels": ["x"]}],
        [{"value": [0, 0, 0], "labels": "x"}],
        [{"value": [1, 1, 1], "labels": []}, {"value": [1, 1, 1], "labels": []}],
        {"value": [1, 1, 1]},
    ],
)
def test_bad_mask_labels_are_400(manager_api, draft, bad):
    response = manager_api.put(url(f"versions/{draft.pk}/mask-labels/"), bad, format="json")
    assert response.status_code == 400 and "mask_labels" in response.json()


def test_viewer_reads_versions_but_cannot_write(viewer_api, draft):
    assert viewer_api.get(url(f"versions/{draft.pk}/")).status_code == 200
    assert viewer_api.post(url(f"versions/{draft.pk}/publish/")).status_code == 403
