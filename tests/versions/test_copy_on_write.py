"""Copy-on-write frames: a child sees its parent's frames until it changes or deletes them,
and never changes what the parent or a sibling returns. Branching copies nothing."""

import pytest

from dashboard.errors import Conflict
from versions.copy_on_write import effective_entries
from versions.models import FrameEntry
from versions.services import (
    dataset_create,
    frames_add,
    frames_delete,
    version_create,
    version_publish,
)

pytestmark = pytest.mark.django_db


def frame(i, **meta):
    return {"id": f"f{i}", "sources": [{"uri": f"s3://b/{i}.jpg"}], "meta": meta}


def contents(version):
    return {
        e.data_row_id: e.revision.content["meta"]
        for e in effective_entries(version).select_related("revision")
    }


@pytest.fixture
def root():
    dataset, _ = dataset_create(name="d")
    root, _ = version_create(dataset=dataset, name="root")
    frames_add(version=root, frames=[frame(i, n=i) for i in range(5)])
    return version_publish(version=root)


def test_branching_writes_no_frame_entries(root):
    before = FrameEntry.objects.count()
    child, _ = version_create(dataset=root.dataset, name="child", parent=root)
    assert FrameEntry.objects.count() == before
    assert contents(child) == contents(root)


def test_child_updates_and_deletes_are_isolated_from_parent_and_sibling(root):
    a, _ = version_create(dataset=root.dataset, name="a", parent=root)
    b, _ = version_create(dataset=root.dataset, name="b", parent=root)
    frames_add(version=a, frames=[frame(1, n="changed"), frame(9, n="new")])
    result = frames_delete(version=a, ids=["f2"])
    assert result == {"deleted": 1, "sources_deleted": 0, "failed": []}
    assert contents(a) == {
        "f0": {"n": 0},
        "f1": {"n": "changed"},
        "f3": {"n": 3},
        "f4": {"n": 4},
        "f9": {"n": "new"},
    }
    expected_root = {f"f{i}": {"n": i} for i in range(5)}
    assert contents(root) == expected_root
    assert contents(b) == expected_root


def test_grandchild_reads_through_two_generations(root):
    child, _ = version_create(dataset=root.dataset, name="child", parent=root)
    frames_delete(version=child, ids=["f0"])
    child = version_publish(version=child)
    grandchild, _ = version_create(dataset=root.dataset, name="gc", parent=child)
    assert sorted(contents(grandchild)) == ["f1", "f2", "f3", "f4"]
    frames_add(version=grandchild, frames=[frame(0, n="back")])
    assert contents(grandchild)["f0"] == {"n": "back"}
    assert "f0" not in contents(child)


def test_writes_to_a_published_version_are_refused_and_change_nothing(root):
    before = contents(root)
    with pytest.raises(Conflict, match="published"):
        frames_add(version=root, frames=[frame(1, n="x")])
    with pytest.raises(Conflict):
        frames_delete(version=root, ids=["f1"])
    assert contents(root) == before


def test_a_draft_cannot_be_a_parent(root):
    draft, _ = version_create(dataset=root.dataset, name="draft", parent=root)
    with pytest.raises(Conflict, match="publish it first"):
        version_create(dataset=root.dataset, name="x", parent=draft)


def test_bad_frames_come_back_as_failures_while_good_ones_are_added(root):
    draft, _ = version_create(dataset=root.dataset, name="draft", parent=root)
    result = frames_add(
        version=draft,
        frames=[
            frame(7),
            {"sources": []},
            {"sources": [{"uri": "s3://b/x"}], "meta": {"a.b": 1}},
        ],
    )
    assert result["added"] == 1
    assert [f["error_type"] for f in result["failed"]] == ["validation", "validation"]
    assert "sources" in result["failed"][0]["error"] and "a.b" in result["failed"][1]["error"]


def test_same_uri_in_the_same_dataset_gives_the_same_frame_id(root):
    from versions.frames import frame_id_for_uri

    draft, _ = version_create(dataset=root.dataset, name="draft", parent=root)
    uri = {"sources": [{"uri": "s3://b/same.jpg"}]}
    frames_add(version=draft, frames=[uri])
    frames_add(version=draft, frames=[{**uri, "meta": {"again": True}}])
    expected = frame_id_for_uri(dataset_id=root.dataset_id, uri="s3://b/same.jpg")
    assert effective_entries(draft).count() == 6  # the root's five and one more
    assert contents(draft)[expected] == {"again": True}
    other, _ = dataset_create(name="other")
    assert frame_id_for_uri(dataset_id=other.pk, uri="s3://b/same.jpg") != expected
