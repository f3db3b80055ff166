"""Diff between two versions, computed in the database."""

import pytest

from versions.services import frames_add, frames_delete, version_create, version_publish

from .conftest import make_frame

pytestmark = pytest.mark.django_db


def test_diff_reports_added_removed_changed_with_counts(manager_api, dataset, published, draft):
    frames_add(version=draft, frames=[make_frame(1, n="changed"), make_frame(9)])
    frames_add(version=draft, frames=[make_frame(2)])  # same content: not a change
    frames_delete(version=draft, ids=["f3"])
    body = manager_api.get(f"/api/v1/versions/{draft.pk}/diff/?against={published.pk}").json()
    assert body == {
        "counts": {"added": 1, "removed": 1, "changed": 1},
        "added": ["f9"],
        "removed": ["f3"],
        "changed": ["f1"],
    }
    reverse = manager_api.get(f"/api/v1/versions/{published.pk}/diff/?against={draft.pk}").json()
    assert reverse["added"] == ["f3"] and reverse["removed"] == ["f9"]


def test_diff_between_siblings_and_across_generations(dataset, published, draft):
    from versions.selectors import version_diff

    sibling, _ = version_create(dataset=dataset, name="s", parent=published)
    frames_add(version=sibling, frames=[make_frame(4, n="sib")])
    frames_add(version=draft, frames=[make_frame(0, n="dr")])
    diff = version_diff(newer=draft, older=sibling)
    assert diff["changed"] == ["f0", "f4"] and diff["counts"]["changed"] == 2
    child_parent = version_publish(version=draft)
    grandchild, _ = version_create(dataset=dataset, name="g", parent=child_parent)
    frames_delete(version=grandchild, ids=["f1"])
    deep = version_diff(newer=grandchild, older=published)
    assert deep["counts"] == {"added": 0, "removed": 1, "changed": 1}
    assert version_diff(newer=published, older=published)["counts"] == {
        "added": 0,
        "removed": 0,
        "changed": 0,
    }


def test_diff_limit_caps_the_lists_not_the_counts(manager_api, published, draft):
    frames_add(version=draft, frames=[make_frame(i) for i in range(10, 20)])
    body = manager_api.get(
        f"/api/v1/versions/{draft.pk}/diff/?against={published.pk}&limit=3"
    ).json()
    assert body["counts"]["added"] == 10 and body["added"] == ["f10", "f11", "f12"]
    zero = manager_api.get(
        f"/api/v1/versions/{draft.pk}/diff/?against={published.pk}&limit=0"
    ).json()
    assert zero["counts"]["added"] == 10 and zero["added"] == []


def test_diff_errors(manager_api, draft):
    base = f"/api/v1/versions/{draft.pk}/diff/"
    assert manager_api.get(base).status_code == 400
    assert manager_api.get(base + "?against=nope").status_code == 404
    assert manager_api.get(base + f"?against={draft.pk}&limit=x").status_code == 400
    from versions.services import dataset_create

    other_dataset, _ = dataset_create(name="other")
    other, _ = version_create(dataset=other_dataset, name="o")
    assert manager_api.get(base + f"?against={other.pk}").status_code == 400
