"""ORM-style records through labelops_client (`client.create_dataset`, `dataset.data_rows`):
bulk create/upsert/sync with counts and row errors, find_by, update, delete, streamed export
and file import, as CLIENT.md lists them."""

import json

import labelops_client as lo
import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def row(i, **metadata):
    return {"global_key": f"u{i}", "row_data": f"https://img/{i}.jpg", "metadata": metadata}


@pytest.fixture
def rows(client):
    dataset = client.create_dataset("users", description="people", tags=["orm"])
    assert (dataset.name, dataset.tags) == ("users", ["orm"])
    assert client.get_dataset(dataset.uid).name == "users"
    assert client.get_dataset_by_name("users").uid == dataset.uid
    return dataset.data_rows


def test_bulk_create_counts_and_row_errors(rows):
    bad = {"global_key": "u3", "metadata": "not an object"}
    result = rows.bulk_create([row(1, age=28), row(2, age=32), bad])
    assert (result.created, result.failed) == (2, 1)
    assert result.errors[0]["index"] == 2 and result.errors[0]["key"] == "u3"
    assert "metadata" in result.errors[0]["message"]
    again = rows.bulk_create([row(1)])
    assert again.failed == 1 and "already exists" in again.errors[0]["message"]
    with pytest.raises(lo.InvalidInput) as raised:
        rows.bulk_create([row(4), bad], on_error="atomic")
    assert raised.value.body["errors"]
    assert rows.first(global_key="u4") is None  # atomic: nothing written


def test_upsert_and_sync(rows):
    rows.bulk_create([row(1, age=28), row(2, age=32), row(3, age=25)])
    result = rows.upsert([row(1, age=29), row(2, age=32), row(4, age=40)])
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    synced = rows.sync([row(1, age=29), row(5, age=50)])
    assert (synced.created, synced.unchanged, synced.deleted) == (1, 1, 3)
    assert sorted(r.global_key for r in rows.all()) == ["u1", "u5"]


def test_find_by_update_delete(rows):
    rows.bulk_create([row(i, age=20 + i, status="pending") for i in range(10)])
    young = rows.find_by(metadata__age__lt=23)
    assert not isinstance(young, list)  # lazy
    found = list(young)
    assert sorted(r.global_key for r in found) == ["u0", "u1", "u2"]
    assert found[0].age == found[0].metadata["age"] and found[0].created_at.tzinfo
    assert sorted(r.global_key for r in rows.find_by(global_key__in=["u1", "u7"])) == ["u1", "u7"]
    assert list(rows.find_by(colour="red")) == []  # a record's own field: its metadata
    with pytest.raises(lo.InvalidInput) as raised:
        list(rows.find_by(global_key__near="u1"))
    assert raised.value.status == 400 and raised.value.code

    updated = rows.update(
        {"metadata__status": "pending", "metadata__age__gt": 26},
        {"metadata": {"status": "cancelled"}},
    )
    assert updated.updated == 3
    assert rows.first(global_key="u9").metadata == {"age": 29, "status": "cancelled"}
    assert rows.delete(filter={"metadata__status": "cancelled"}).deleted == 3
    assert rows.delete(ids=[rows.first(global_key="u0").uid]).deleted == 1
    assert len(rows.all()) == 6


def test_export_streams_and_import_file_streams(rows, tmp_path):
    rows.bulk_create([row(i, age=i) for i in range(3)])
    exported = rows.export()
    assert not isinstance(exported, list)
    records = list(exported)
    assert sorted(r["global_key"] for r in records) == ["u0", "u1", "u2"]
    csv_lines = list(rows.export(format="csv"))
    assert csv_lines[0].startswith("id,") or "global_key" in csv_lines[0]
    assert len(csv_lines) == 4

    path = tmp_path / "more.ndjson"
    path.write_text("".join(json.dumps(row(i, age=i)) + "\n" for i in range(3, 6)))
    assert rows.import_file(path).created == 3
    csv = tmp_path / "more.csv"
    csv.write_text('global_key,row_data,metadata\nu9,https://img/9.jpg,"{""age"": 9}"\n')
    assert rows.import_file(csv, mode="upsert").created == 1
    assert rows.first(global_key="u9").age == 9


def test_metadata_schema_gives_types_and_defaults(rows):
    rows.dataset.set_metadata_schema(
        [
            {"name": "status", "type": "string", "default": "pending"},
            {"name": "priority", "type": "integer", "default": 1},
        ]
    )
    assert rows.bulk_create([{"global_key": "t1", "row_data": "x"}]).created == 1
    assert rows.first(global_key="t1").metadata == {"status": "pending", "priority": 1}


def test_upsert_merges_metadata_key_by_key(rows):
    rows.bulk_create([row(1, age=28, email="a@x")])
    rows.upsert([row(1, age=29)])
    assert rows.first(global_key="u1").metadata == {"age": 29, "email": "a@x"}


def test_csv_import_reads_metadata_columns(rows, tmp_path):
    csv = tmp_path / "users.csv"
    csv.write_text("global_key,row_data,metadata.age\nu1,https://img/1.jpg,28\n")
    assert rows.import_file(csv).created == 1
    assert rows.first(global_key="u1").metadata == {"age": 28}


def test_one_record_create_find_set_save_and_delete(rows):
    """The ORM's per-record verbs (the seed's update, upsert and delete patterns): `create`,
    `find_by` / `first` on a record's own fields, attribute writes, `save()`, `delete()`."""
    alice = rows.create(global_key="alice", row_data="https://people/alice", name="Alice", age=28)
    assert (alice.global_key, alice.name, alice.age) == ("alice", "Alice", 28)
    rows.create(row_data="https://people/bob", name="Bob", age=40, is_active=False)
    assert [r.name for r in rows.find_by(age__lt=30)] == ["Alice"]
    bob = rows.first(is_active=False)
    assert bob.name == "Bob" and rows.first(name="Nobody") is None
    bob.name, bob.is_active, bob.row_data = "Robert", True, "https://people/robert"
    assert bob.save() is bob
    again = rows.get(bob.uid)
    assert (again.name, again.is_active, again.age, again.row_data) == (
        "Robert", True, 40, "https://people/robert",
    )  # fmt: skip
    again.age = None  # a field set to None is removed
    again.save()
    assert "age" not in rows.get(bob.uid).metadata
    with pytest.raises(AttributeError):
        again.global_key = "other"
    alice.delete()
    assert [r.name for r in rows.all()] == ["Robert"]
    with pytest.raises(lo.InvalidInput, match="already exists"):
        rows.create(id=bob.uid, row_data="https://x")
    assert rows.create(name="no data").row_data == ""  # a metadata-only record
    with pytest.raises(lo.InvalidInput, match="metadata"):
        rows.create(metadata="not an object")
    with pytest.raises(lo.NotFound):
        rows.get("nope")


def test_flat_records_are_metadata_only_rows_read_back_flat(rows):
    created = rows.bulk_create([{"name": "Alice", "age": 28}, {"name": "Bob", "global_key": "b"}])
    assert (created.created, len(created)) == (2, 2)
    alice, bob = created
    assert (alice.name, alice["age"], alice.row_data, bob.global_key) == ("Alice", 28, "", "b")
    assert alice.model_dump()["name"] == "Alice" and alice.uid.startswith("r-")
    # by global_key without an id: the server derives the id, so an upsert finds the row
    again = rows.upsert([{"global_key": "b", "email": "b@x"}])
    assert (again.updated, again.created) == (1, 0)
    assert (rows.first(global_key="b").name, rows.first(name="Bob").email) == ("Bob", "b@x")
    failed = rows.bulk_create([{"global_key": "b", "name": "Bob again"}])
    assert failed.failed == 1 and len(failed) == 0  # a failed record is not returned


def test_base_model_sets_the_schema_and_its_defaults(client):
    @client.model(table_name="Tasks")
    class Task(lo.BaseModel):
        title: str
        status: str = "pending"
        priority: int = 1
        due: str | None = None
        weight: "float | None"

    assert Task.metadata_fields() == [
        {"name": "title", "type": "string", "required": True},
        {"name": "status", "type": "string", "default": "pending"},
        {"name": "priority", "type": "integer", "default": 1},
        {"name": "due", "type": "string"},
        {"name": "weight", "type": "number"},
    ]
    schema = {f["name"]: f for f in Task.dataset.get_metadata_schema()}
    assert (schema["priority"]["type"], schema["priority"]["default"]) == ("integer", 1)
    assert schema["title"]["required"] is True and list(schema) == [
        "title",
        "status",
        "priority",
        "due",
        "weight",
    ]
    created = Task.bulk_create([{"title": "a"}, {"title": "b", "priority": 3}, {"status": "x"}])
    assert (created.created, created.failed) == (2, 1)
    assert "title" in created.errors[0]["message"]
    assert sorted((t.title, t.status, t.priority) for t in Task.all()) == [
        ("a", "pending", 1),
        ("b", "pending", 3),
    ]
    assert Task.first(title="b").priority == 3 and Task.create(title="c").status == "pending"

    class Unbound(lo.BaseModel):
        x: int

    with pytest.raises(lo.InvalidInput):
        Unbound.all()
