"""CLIENT.md's promises that a review against a live server found broken: every object has
`.uid` and `.id` (ClearML datasets too), `get_frames_by_ids` is one of the class methods,
`get_masks_labels()` gives back the dict shape `set_masks_labels` takes, `add_frames`
failures carry the frame that failed, exports are iterators of records, times are
`datetime`s, and a batch call that waits for its job says when the job failed."""

from datetime import datetime

import labelops_client as lo
import pytest
from labelops_client import DatasetVersion, SingleFrame

from dashboard.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def version(client):
    DatasetVersion.create_new_dataset(dataset_name="shapes")
    version = DatasetVersion.create_version(version_name="v1", dataset_name="shapes")
    frames = [
        SingleFrame(source=f"s3://bucket/{i}.jpg", id=f"f{i}", metadata={"i": i}) for i in range(3)
    ]
    assert version.add_frames(frames) == []
    return version


def test_create_new_dataset_and_get_datasets_give_dataset_objects(client):
    made = DatasetVersion.create_new_dataset(dataset_name="cars", tags=["best"])
    assert isinstance(made, lo.Dataset)
    assert made.id == made.uid and made.name == "cars" and made.tags == ["best"]
    assert made["id"] == made.id and made.get("name") == "cars"  # read as a dict, too
    assert isinstance(made.created_at, datetime)
    again = DatasetVersion.create_new_dataset(dataset_name="cars")
    assert again.id == made.id
    listed = DatasetVersion.get_datasets(tags=["best"])
    assert [type(d) for d in listed] == [lo.Dataset] and listed[0].uid == made.uid
    assert listed[0].data_rows.bulk_create([{"global_key": "a", "row_data": "x"}]).created == 1


def test_get_frames_by_ids_as_a_class_method_as_the_seed_lists_it(version):
    by_id = DatasetVersion.get_frames_by_ids(["f2", "f0"], version_id=version.id)
    assert sorted(f.id for f in by_id) == ["f0", "f2"]
    assert all(isinstance(f, SingleFrame) for f in by_id)
    by_name = DatasetVersion.get_frames_by_ids(
        frame_ids=["f1"], projection=["id", "meta.i"], dataset_name="shapes", version_name="v1"
    )
    assert by_name == [{"id": "f1", "meta": {"i": 1}}]
    current = DatasetVersion.get_frames_by_ids(["f1"], dataset_id=version.dataset_id)
    assert [f.id for f in current] == ["f1"]
    assert [f.id for f in version.get_frames_by_ids(["f0"])] == ["f0"]  # the instance form
    with pytest.raises(lo.NotFound):
        DatasetVersion.get_frames_by_ids(["f0"], version_id="nope")


def test_get_masks_labels_gives_back_the_shape_set_masks_labels_takes(version):
    mapping = {(0, 0, 0): ["background"], (1, 1, 1): ["person", "sitting"]}
    assert version.set_masks_labels(mapping) is True
    got = version.get_masks_labels()
    assert got == mapping and mapping == got
    assert all(isinstance(labels, list) for labels in got.values())
    # … and still equal to the seed's Dict[tuple, tuple]
    assert got == {(0, 0, 0): ("background",), (1, 1, 1): ("person", "sitting")}
    assert got[(1, 1, 1)] != ["person"] and got[(1, 1, 1)] != ("person",)


def test_frames_have_uid_and_id(version):
    frame = DatasetVersion.get_single_frame("f0", version_id=version.id)
    assert frame.uid == frame.id == "f0"
    assert SingleFrame(source="s3://x").uid is None


def test_add_frames_failures_carry_the_frame_as_given(version):
    good = SingleFrame(source="s3://bucket/9.jpg", id="f9")
    twin = SingleFrame(source="s3://bucket/9b.jpg", id="f9")
    bad = {"id": 5, "sources": [{"id": "Frame", "uri": "s3://bucket/5.jpg"}]}
    failed = version.add_frames([good, twin, bad], batch_size=2)
    assert [f["frame"] for f in failed] == [twin, bad]
    assert [f["index"] for f in failed] == [1, 2]
    assert all(f["error"] and f["error_type"] for f in failed)


def test_export_json_is_an_iterator_of_records(client):
    rows = client.create_dataset("people").data_rows
    rows.bulk_create([{"global_key": f"p{i}", "row_data": f"u{i}", "age": i} for i in range(3)])
    exported = rows.export(format="json")
    assert not isinstance(exported, list)
    records = list(exported)
    assert sorted(r["global_key"] for r in records) == ["p0", "p1", "p2"]
    assert {r["metadata"]["age"] for r in records} == {0, 1, 2}
    assert list(rows.export(format="json")) == list(rows.export())


def test_task_times_are_datetimes(client):
    dataset = client.create_dataset("timed")
    dataset.data_rows.bulk_create([{"global_key": "a", "row_data": "x"}])
    project = client.create_project("timed")
    task = project.create_batches_from_dataset("t-", dataset.uid).wait_till_done()
    assert isinstance(task.created_at, datetime) and isinstance(task.finished_at, datetime)
    assert task.started_at is None or isinstance(task.started_at, datetime)


def test_delete_labels_raises_when_its_job_fails(client, monkeypatch):
    dataset = client.create_dataset("rows")
    dataset.data_rows.bulk_create([{"global_key": "a", "row_data": "x"}])
    batch = client.create_project("p").create_batch("b", global_keys=["a"])
    assert batch.delete_labels() is None  # succeeded: nothing to say

    def failed_job(**kwargs):  # the job as it ends when its worker gives up
        return Job.objects.create(kind="delete_labels", status="failed", error="disk on fire")

    monkeypatch.setattr("batches.services.batch_delete_labels", failed_job)
    with pytest.raises(lo.LabelopsError) as failed:
        batch.delete_labels()
    assert failed.value.body["status"] == "failed" and "disk on fire" in str(failed.value)


def test_row_priorities_are_sent_as_api_md_shapes_them(client, monkeypatch):
    dataset = client.create_dataset("rows")
    dataset.data_rows.bulk_create([{"global_key": k, "row_data": k} for k in ("a", "b")])
    project = client.create_project("p")
    project.create_batch("b", global_keys=["a", "b"])
    row = dataset.data_rows.first(global_key="b")
    sent = []
    real = client.request

    def recording(method, path, **kwargs):
        sent.append((path, kwargs.get("json")))
        return real(method, path, **kwargs)

    monkeypatch.setattr(client, "request", recording)
    assert project.update_data_row_labeling_priority(2, global_keys=["a"], data_rows=[row]) is None
    assert sent == [
        (
            project.path + "priorities/",
            [{"global_key": "a", "priority": 2}, {"data_row": row.uid, "priority": 2}],
        )
    ]
    monkeypatch.setattr(client, "request", real)
    lines = project.export_stream(data_row_details=True)
    overrides = {line["data_row"]["global_key"]: line["data_row"]["details"] for line in lines}
    assert {k: v["priority_override"] for k, v in overrides.items()} == {"a": 2, "b": 2}


def test_version_times_are_datetimes(version):
    assert isinstance(version.get_stats()["last_updated"], datetime)
    assert version.published_at is None
    assert version.publish_version() is True
    assert isinstance(version.published_at, datetime)
    assert isinstance(version.last_updated, datetime) and isinstance(version.created_at, datetime)


def test_class_methods_take_the_seeds_dataset_project(client):
    DatasetVersion.create_new_dataset(dataset_name="food", dataset_project="kitchen")
    made = DatasetVersion.create_version(
        version_name="v1", dataset_name="food", dataset_project="kitchen"
    )
    made.add_frames([SingleFrame(source="s3://bucket/pizza.jpg", id="p")])
    current = DatasetVersion.get_current(dataset_name="food", dataset_project="kitchen")
    assert current.id == made.id
    got = DatasetVersion.get_version(
        dataset_id=made.dataset_id, version_name="v1", dataset_project="kitchen"
    )
    assert got.id == made.id
    assert [
        v.id for v in DatasetVersion.get_versions(dataset_name="food", dataset_project="kitchen")
    ] == [made.id]
    frame = DatasetVersion.get_single_frame("p", dataset_name="food", dataset_project="kitchen")
    assert frame.id == "p"
    assert DatasetVersion.get_frames_by_source(
        "s3://*", dataset_name="food", dataset_project="kitchen"
    )
    assert DatasetVersion.get_frames_by_ids(["p"], dataset_name="food", dataset_project="kitchen")
    with pytest.raises(lo.NotFound):
        DatasetVersion.get_current(dataset_name="food", dataset_project="garage")
    with pytest.raises(lo.NotFound):
        DatasetVersion.get_versions(dataset_id=made.dataset_id, dataset_project="garage")
    child = DatasetVersion.create_snapshot(
        dataset_name="food", child_name="v2", dataset_project="kitchen"
    )
    assert child.is_draft and child.parent_id == made.id
    DatasetVersion.remove_version(dataset_name="food", version_name="v2", dataset_project="kitchen")
    assert [v.id for v in DatasetVersion.get_versions(dataset_name="food")] == [made.id]
