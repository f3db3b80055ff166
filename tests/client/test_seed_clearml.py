"""The ClearML "DatasetVersion" seed page through labelops_client: its code examples as written
(the connection: `lo.configure(url, api_key)`), and each class and instance method CLIENT.md
lists, on the default client."""

import warnings

import labelops_client as lo
import pytest
from labelops_client import DatasetVersion, SingleFrame

from .seeds import run_example

pytestmark = pytest.mark.django_db(transaction=True)


def frame(i, **meta):
    f = SingleFrame(source=f"s3://bucket/img/{i}.jpg", id=f"f{i:04d}", metadata={"i": i, **meta})
    f.add_annotation(labels=["cat"], box2d_xywh=(1, 2, 3, 4), confidence=0.9)
    return f


@pytest.fixture
def version(client):
    DatasetVersion.create_new_dataset(dataset_name="food", tags=["best"])
    version = DatasetVersion.create_version(version_name="v1", dataset_name="food")
    assert version.add_frames([frame(i) for i in range(5)]) == []
    return version


def test_iterator_with_projection_as_the_page_shows(version):
    namespace = {"version": version, "dataview": version}
    run_example(
        """
        version.get_iterator(projection=['id', 'dataset.id', 'sources'])
        # will return an iterator that yields dictionaries with the following fields:
        """,
        namespace,
    )
    items = list(version.get_iterator(projection=["id", "dataset.id", "sources"]))
    assert items[0] == {
        "id": "f0000",
        "dataset": {"id": version.dataset_id},
        "sources": [{"id": "Frame", "uri": "s3://bucket/img/0.jpg"}],
    }
    run_example("dataview.get_iterator(projection=['id', 'dataset.id', 'sources'])", namespace)


def test_update_frames_without_meta_as_the_page_shows(version):
    frames = [SingleFrame(source="s3://bucket/new/0.jpg", id="f0000", metadata={"i": 99})]
    namespace = {"dataset_version": version, "frames": frames}
    run_example('dataset_version.update_frames(frames, without_fields=["meta"])', namespace)
    got = DatasetVersion.get_single_frame("f0000", version_id=version.id)
    assert got.source == "s3://bucket/new/0.jpg" and got.metadata == {"i": 0}


def test_masks_labels_in_the_pages_dict_shape(version):
    namespace = {"version": version}
    run_example(
        """
        ok = version.set_masks_labels({
        (0,0,0): ["background"],
        (1,1,1): ["person", "sitting"],
        (2,2,2): ["cat"],
        })
        """,
        namespace,
    )
    assert namespace["ok"] is True
    assert version.get_masks_labels() == {
        (0, 0, 0): ("background",),
        (1, 1, 1): ("person", "sitting"),
        (2, 2, 2): ("cat",),
    }
    assert version.get_metadata()["mask_labels"][1] == {
        "value": [1, 1, 1],
        "labels": ["person", "sitting"],
    }


def test_get_datasets_with_the_pages_tag_examples(client):
    for name, tags in {
        "a": ["best", "experiment", "ever"],
        "b": ["best", "debug"],
        "c": ["best", "experiment", "ever", "internal"],
        "d": ["other"],
    }.items():
        DatasetVersion.create_new_dataset(dataset_name=name, tags=tags)

    def names(tags):
        return [d["name"] for d in DatasetVersion.get_datasets(tags=tags)]

    assert names(["best", "-debug"]) == ["a", "c"]
    assert names(["__$all", "best", "experiment", "ever"]) == ["a", "c"]
    assert names(["__$all", "best", "experiment", "ever", "__$not", "internal"]) == ["a"]
    assert names(None) == ["a", "b", "c", "d"]


def test_datasets_and_versions_by_id_or_name(client):
    made = DatasetVersion.create_new_dataset(dataset_name="cars", description="d")
    assert DatasetVersion.create_new_dataset(dataset_name="cars")["id"] == made["id"]
    with pytest.raises(ValueError) as raised:  # the seed raises ValueError
        DatasetVersion.create_new_dataset(dataset_name="cars", raise_if_exists=True)
    assert isinstance(raised.value, lo.Conflict) and raised.value.code

    v1 = DatasetVersion.create_version(version_name="v1", dataset_name="cars")
    assert DatasetVersion.create_version(version_name="v1", dataset_id=made["id"]).id == v1.id
    with pytest.raises(lo.Conflict):
        DatasetVersion.create_version(version_name="v1", dataset_name="cars", raise_if_exists=True)
    assert DatasetVersion.get_current(dataset_name="cars").id == v1.id
    assert DatasetVersion.get_version(dataset_name="cars", version_name="v1").id == v1.id
    assert DatasetVersion.get_version(version_id=v1.id).dataset_name == "cars"
    assert DatasetVersion.get_version(dataset_id=made["id"]).id == v1.id  # the current one
    with pytest.raises(lo.LabelopsError):
        DatasetVersion.get_current(dataset_id=made["id"], dataset_name="cars")
    with pytest.raises(lo.NotFound):
        DatasetVersion.get_current(dataset_name="no such")

    assert v1.publish_version() is True and v1.publish_version() is False
    v2 = DatasetVersion.create_version(
        version_name="v2", dataset_name="cars", parent_version_names=["v1"]
    )
    assert v2.get_parent() == v1.id and v2.is_draft and not v1.is_draft
    assert [v.name for v in DatasetVersion.get_versions(dataset_name="cars")] == ["v2", "v1"]
    assert [v.name for v in DatasetVersion.get_versions("cars", only_published=True)] == ["v1"]
    assert [v.name for v in DatasetVersion.get_versions("cars", only_draft=True)] == ["v2"]

    child = DatasetVersion.create_snapshot(
        dataset_name="cars", version_name="v2", publish_name="v2-final", child_name="v3"
    )
    assert child.name == "v3" and child.get_parent() == v2.id
    with pytest.raises(lo.Conflict):
        DatasetVersion.remove_version(dataset_name="cars", version_name="v1")
    DatasetVersion.remove_version(dataset_name="cars", version_name="v1", force=True)
    assert "v1" not in [v.name for v in DatasetVersion.get_versions(dataset_name="cars")]


def test_frames_add_read_update_delete(version):
    fails = version.add_frames(
        [frame(10), {"id": "bad", "sources": "nope"}, frame(11)], warn_on_duplicate_frames=True
    )
    assert [(f["index"], f["error_type"]) for f in fails] == [(1, "validation")]
    assert "error" in fails[0] and "frame" in fails[0]
    with pytest.warns(UserWarning, match="f0010"):
        version.add_frames([frame(10)], warn_on_duplicate_frames=True)

    one = DatasetVersion.get_single_frame("f0003", dataset_name="food", version_name="v1")
    assert one.rois == [{"label": ["cat"], "confidence": 0.9, "bbox": [1, 2, 3, 4]}]
    by_source = DatasetVersion.get_frames_by_source("s3://bucket/img/1*", dataset_name="food")
    assert sorted(f.id for f in by_source) == ["f0001", "f0010", "f0011"]

    many = version.get_frames_by_ids(["f0004", "f0000", "missing"])
    assert [f.id for f in many] == ["f0004", "f0000"]
    projected = version.get_frames_by_ids(["f0001"], projection=["meta.i"])
    assert projected == [{"meta": {"i": 1}}]

    version.update_frames([{"id": "f0001", "meta": {"extra": True}}], without_fields=[])
    assert DatasetVersion.get_single_frame("f0001", version_id=version.id).metadata == {
        "i": 1,
        "extra": True,
    }
    assert version.delete_frames(["f0000", frame(1)]) == 2
    assert len(list(version.get_iterator())) == 5

    version.commit_version()
    stats = version.get_stats()
    assert stats["frame_count"] == 5 and stats["label_counts"] == {"cat": 5}


def test_bulk_context_flushes_every_threshold_and_on_exit(version):
    with version.get_bulk_context(flush_threshold=3) as bulk:
        assert version.get_bulk_context() is bulk  # one per version object
        for i in range(20, 24):
            bulk.add_frame(frame(i))
        assert len(list(version.get_iterator())) == 8  # 3 flushed, 1 pending
        bulk.update_frame({"id": "f0020", "sources": [{"uri": "s3://x/20.jpg"}], "meta": {}})
        bulk.delete_frame("f0000")
    assert len(list(version.get_iterator())) == 8
    assert DatasetVersion.get_single_frame("f0020", version_id=version.id).source == "s3://x/20.jpg"
    bulk.add_frame(frame(30))
    version.flush()
    assert len(version.get_frames_by_ids(["f0030"])) == 1


def test_version_metadata_and_published_writes(version):
    assert version.set_metadata({"owner": "ml", "nested": {"a": 1}}) is True
    assert version.get_metadata() == {"owner": "ml", "nested": {"a": 1}}
    assert version.publish_version() is True
    assert version.set_metadata({"x": 1}) is False
    assert version.set_masks_labels({(0, 0, 0): ["bg"]}) is False
    with pytest.raises(lo.Conflict):
        version.add_frames([frame(50)])


def test_instance_attributes(version):
    assert version.name == "v1" and version.dataset_name == "food" and version.is_draft
    assert version.comment == "" and version.parent_id is None
    assert DatasetVersion.get_current(dataset_name="food").dataset_id == version.dataset_id
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert version.last_updated is not None
