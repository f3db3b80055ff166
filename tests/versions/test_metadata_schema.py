"""A dataset's typed metadata schema: GET/PUT datasets/{id}/metadata-schema/ and its checks, and
how every write path applies it (types converted, defaults filled, required and wrong types row
errors naming the field), typed filters, and upserts that merge metadata key by key."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dashboard.models import Job
from versions.bulk.export import export_records
from versions.services import (
    dataset_create,
    dataset_set_metadata_schema,
    frames_add,
    frames_update,
    version_create,
)

pytestmark = pytest.mark.django_db

SCHEMA = [
    {"name": "age", "type": "integer", "required": True},
    {"name": "score", "type": "number", "default": 0.5},
    {"name": "active", "type": "boolean", "default": True},
    {"name": "seen", "type": "datetime"},
    {"name": "split", "type": "enum", "options": ["train", "val"], "default": "train"},
    {"name": "note", "type": "string"},
]


@pytest.fixture
def dataset(db):
    return dataset_create(name="people")[0]


@pytest.fixture
def typed(dataset):
    return dataset_set_metadata_schema(dataset=dataset, fields=SCHEMA)


def url(dataset, tail=""):
    return f"/api/v1/datasets/{dataset.pk}/{tail}"


def import_records(api, dataset, records, run_jobs, **query) -> Job:
    query_string = "&".join(f"{k}={v}" for k, v in query.items())
    with run_jobs():
        response = api.post(
            url(dataset, f"data-rows/import/?{query_string}"), {"records": records}, format="json"
        )
    assert response.status_code == 202, response.content
    return Job.objects.get(pk=response.json()["id"])


def import_file(api, dataset, name, body: bytes, run_jobs, **query) -> Job:
    query_string = "&".join(f"{k}={v}" for k, v in query.items())
    with run_jobs():
        response = api.post(
            url(dataset, f"data-rows/import/?{query_string}"),
            {"file": SimpleUploadedFile(name, body)},
            format="multipart",
        )
    assert response.status_code == 202, response.content
    return Job.objects.get(pk=response.json()["id"])


def errors_of(job):
    return list(job.row_errors.order_by("index").values_list("index", "message"))


def metadata_of(api, dataset) -> dict:
    rows = api.get(url(dataset, "data-rows/?page_size=1000")).json()["results"]
    return {r["global_key"]: r["metadata"] for r in rows}


def row(key, **metadata):
    return {"global_key": key, "row_data": f"s3://b/{key}.jpg", "metadata": metadata}


# ---------------------------------------------------------------- the endpoint


def test_get_and_put_replace_the_schema(manager_api, viewer_api, dataset):
    assert viewer_api.get(url(dataset, "metadata-schema/")).json() == {"fields": []}
    response = manager_api.put(url(dataset, "metadata-schema/"), {"fields": SCHEMA}, format="json")
    assert response.status_code == 200, response.content
    fields = response.json()["fields"]
    assert [f["name"] for f in fields] == [f["name"] for f in SCHEMA]
    assert fields[0] == {"name": "age", "type": "integer", "required": True}
    assert fields[4]["options"] == ["train", "val"] and fields[1]["default"] == 0.5
    assert viewer_api.get(url(dataset, "metadata-schema/")).json()["fields"] == fields
    again = manager_api.put(
        url(dataset, "metadata-schema/"), {"fields": [SCHEMA[5]]}, format="json"
    )
    assert [f["name"] for f in again.json()["fields"]] == ["note"]  # replaced, not merged


def test_only_a_manager_changes_the_schema(viewer_api, labeler_api, client, dataset):
    body = {"fields": SCHEMA}
    assert viewer_api.put(url(dataset, "metadata-schema/"), body, format="json").status_code == 403
    assert labeler_api.put(url(dataset, "metadata-schema/"), body, format="json").status_code == 403
    assert client.get(url(dataset, "metadata-schema/")).status_code == 401


@pytest.mark.parametrize(
    "fields, words",
    [
        ([{"name": "age", "type": "float"}], ["age", "unknown type"]),
        ([{"name": "age", "type": "integer", "default": "old"}], ["age", "default"]),
        ([{"name": "ok", "type": "boolean", "default": "yes"}], ["ok", "default"]),
        ([{"name": "when", "type": "datetime", "default": "soon"}], ["when", "default"]),
        ([{"name": "split", "type": "enum"}], ["split", "options"]),
        ([{"name": "split", "type": "enum", "options": ["a"], "default": "b"}], ["split", "'b'"]),
        ([{"name": "n", "type": "string", "options": ["a"]}], ["n", "only an enum"]),
        ([{"name": "a", "type": "string"}, {"name": "a", "type": "integer"}], ["'a'", "twice"]),
        ([{"name": "a.b", "type": "string"}], ["a.b", "'.'"]),
        ([{"name": "", "type": "string"}], ["name"]),
        ([{"name": "x" * 101, "type": "string"}], ["longer than 100"]),
        ([{"name": f"f{i}", "type": "string"} for i in range(201)], ["At most 200"]),
        ([{"name": "e", "type": "enum", "options": [str(i) for i in range(1001)]}], ["1000"]),
        ([{"name": "a", "type": "string", "colour": "red"}], ["'a'", "colour"]),
        ([{"name": "a", "type": "string", "required": "yes"}], ["'a'", "required"]),
        ("age", ["list"]),
        (["age"], ["Field 0"]),
    ],
)
def test_a_bad_schema_is_a_400_naming_the_field(manager_api, dataset, fields, words):
    response = manager_api.put(url(dataset, "metadata-schema/"), {"fields": fields}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and "fields" in body
    for word in words:
        assert word in body["fields"][0]
    assert manager_api.get(url(dataset, "metadata-schema/")).json() == {"fields": []}


def test_a_body_without_fields_or_with_others_is_a_400(manager_api, dataset):
    assert manager_api.put(url(dataset, "metadata-schema/"), {}, format="json").status_code == 400
    response = manager_api.put(
        url(dataset, "metadata-schema/"), {"fields": [], "extra": 1}, format="json"
    )
    assert response.status_code == 400 and "extra" in response.json()
    missing = manager_api.put(
        "/api/v1/datasets/nope/metadata-schema/", {"fields": []}, format="json"
    )
    assert missing.status_code == 404


# ---------------------------------------------------------------- writes apply it


def test_json_import_converts_fills_defaults_and_reports_row_errors(manager_api, typed, run_jobs):
    records = [
        row("a", age=30, seen="2024-05-01T14:00:00+02:00", free={"x": 1}),
        row("b", age=31.0, score=2, active=False, split="val", note="hi"),
        row("c", score=1),  # required age missing
        row("d", age="31"),  # a JSON string is not an integer
        row("e", age=1, split="test"),  # not an option
        row("f", age=1, seen="yesterday"),
        row("g", age=True),
    ]
    job = import_records(manager_api, typed, records, run_jobs, mode="create")
    assert job.counts["created"] == 2 and job.counts["failed"] == 5
    errors = dict(errors_of(job))
    assert errors[2].startswith("metadata.age:") and "required" in errors[2]
    assert errors[3].startswith("metadata.age:") and "integer" in errors[3]
    assert errors[4].startswith("metadata.split:") and "'test'" in errors[4]
    assert errors[5].startswith("metadata.seen:")
    assert errors[6].startswith("metadata.age:") and "boolean" in errors[6]
    stored = metadata_of(manager_api, typed)
    assert stored["a"] == {
        "age": 30,
        "score": 0.5,
        "active": True,
        "split": "train",
        "seen": "2024-05-01T12:00:00.000000Z",
        "free": {"x": 1},
    }
    assert stored["b"] == {
        "age": 31,
        "score": 2,
        "active": False,
        "split": "val",
        "note": "hi",
    }


def test_csv_cells_are_converted_to_the_fields_type(manager_api, typed, run_jobs):
    body = (
        b"global_key,row_data,metadata.age,metadata.score,metadata.active,metadata.seen,"
        b"metadata.note,metadata.free,metadata.other,metadata\n"
        b'a,s3://a,28,1.5,no,2024-05-01,007,28,"{""k"": [1]}",\n'
        b'b,s3://b,29,,yes,,true,"""28""",text,"{""extra"": 1, ""free"": 5}"\n'
        b"c,s3://c,old,,,,,,,\n"
        b"d,s3://d,,,,,,,,\n"
    )
    job = import_file(manager_api, typed, "people.csv", body, run_jobs, mode="create")
    assert job.counts["created"] == 2, errors_of(job)
    errors = dict(errors_of(job))
    assert errors[2].startswith("metadata.age:") and "'old'" in errors[2]
    assert errors[3].startswith("metadata.age:") and "required" in errors[3]
    stored = metadata_of(manager_api, typed)
    assert stored["a"] == {
        "age": 28,
        "score": 1.5,
        "active": False,
        "split": "train",
        "seen": "2024-05-01T00:00:00.000000Z",
        "note": "007",  # a string field keeps the text
        "free": 28,  # a free-form cell is read as JSON when it parses
        "other": {"k": [1]},
    }
    # The JSON `metadata` column is read too; a `metadata.<key>` column wins over it.
    assert stored["b"] == {
        "age": 29,
        "score": 0.5,
        "active": True,
        "split": "train",
        "note": "true",
        "free": "28",
        "other": "text",
        "extra": 1,
    }


def test_frames_add_and_update_apply_the_schema(typed):
    draft = version_create(dataset=typed, name="d")[0]
    frame = {"id": "f1", "sources": [{"uri": "s3://f1"}], "meta": {"age": 3.0}}
    result = frames_add(version=draft, frames=[frame, {**frame, "id": "f2", "meta": {}}])
    assert result["added"] == 1
    assert result["failed"][0]["index"] == 1 and "meta.age" in result["failed"][0]["error"]
    (stored,) = export_records(draft, shape="frames")
    assert stored["meta"] == {"age": 3, "score": 0.5, "active": True, "split": "train"}
    result = frames_update(version=draft, frames=[{"id": "f1", "meta": {"age": "x"}}])
    assert result["updated"] == 0 and "meta.age" in result["failed"][0]["error"]
    result = frames_update(version=draft, frames=[{"id": "f1", "meta": {"split": None}}])
    assert result["updated"] == 1  # removed, so it takes its default again
    result = frames_update(version=draft, frames=[{"id": "f1", "meta": {"age": None}}])
    assert "required" in result["failed"][0]["error"]


def test_frames_api_reports_schema_errors(manager_api, typed):
    draft = version_create(dataset=typed, name="d")[0]
    response = manager_api.post(
        f"/api/v1/versions/{draft.pk}/frames/",
        {"frames": [{"id": "f1", "sources": [{"uri": "s3://f1"}], "meta": {"age": "many"}}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["added"] == 0
    assert response.json()["failed"][0]["error"].startswith("meta.age:")


def test_bulk_set_is_checked_and_converted(manager_api, typed, run_jobs):
    import_records(manager_api, typed, [row("a", age=1), row("b", age=2)], run_jobs)
    bad = manager_api.post(
        url(typed, "data-rows/update/"), {"set": {"metadata": {"age": "x"}}}, format="json"
    )
    assert bad.status_code == 400 and "metadata.age" in bad.json()["set"][0]
    required = manager_api.post(
        url(typed, "data-rows/update/"), {"set": {"metadata": {"age": None}}}, format="json"
    )
    assert required.status_code == 400 and "required" in required.json()["set"][0]
    with run_jobs():
        ok = manager_api.post(
            url(typed, "data-rows/update/"),
            {
                "filter": {"metadata__age__gt": "1"},
                "set": {"metadata": {"seen": "2024-01-01", "score": None}},
            },
            format="json",
        )
    assert ok.status_code == 202
    stored = metadata_of(manager_api, typed)
    assert stored["b"]["seen"] == "2024-01-01T00:00:00.000000Z" and stored["b"]["score"] == 0.5
    assert "seen" not in stored["a"]


def test_a_schema_never_rewrites_rows_already_stored(manager_api, dataset, run_jobs):
    import_records(manager_api, dataset, [row("a", age="old")], run_jobs)
    dataset_set_metadata_schema(dataset=dataset, fields=SCHEMA)
    assert metadata_of(manager_api, dataset)["a"] == {"age": "old"}


# ---------------------------------------------------------------- upserts merge


def test_upsert_merges_metadata_key_by_key_and_null_removes(manager_api, dataset, run_jobs):
    import_records(manager_api, dataset, [row("a", age=28, email="a@x", city="Oslo")], run_jobs)
    job = import_records(
        manager_api, dataset, [row("a", age=29, city=None)], run_jobs, mode="upsert"
    )
    assert job.counts["updated"] == 1
    assert metadata_of(manager_api, dataset)["a"] == {"age": 29, "email": "a@x"}
    same = import_records(manager_api, dataset, [row("a", email="a@x")], run_jobs, mode="upsert")
    assert same.counts["unchanged"] == 1
    synced = import_records(manager_api, dataset, [row("a", new=1)], run_jobs, mode="sync")
    assert synced.counts["updated"] == 1
    assert metadata_of(manager_api, dataset)["a"] == {"age": 29, "email": "a@x", "new": 1}
    csv_body = b"global_key,row_data,metadata.age,metadata\na,s3://b/a.jpg,30,\n"
    import_file(manager_api, dataset, "a.csv", csv_body, run_jobs, mode="upsert")
    assert metadata_of(manager_api, dataset)["a"] == {"age": 30, "email": "a@x", "new": 1}


def test_a_created_row_drops_null_keys(manager_api, dataset, run_jobs):
    import_records(manager_api, dataset, [row("a", age=1, gone=None)], run_jobs, mode="create")
    assert metadata_of(manager_api, dataset)["a"] == {"age": 1}


def test_frames_patch_null_removes_a_meta_key(dataset):
    draft = version_create(dataset=dataset, name="d")[0]
    frames_add(
        version=draft,
        frames=[
            {"id": "f", "sources": [{"uri": "s3://f"}], "meta": {"a": 1, "b": {"c": 1, "d": 2}}}
        ],
    )
    frames_update(version=draft, frames=[{"id": "f", "meta": {"a": None, "b": {"c": None}}}])
    (stored,) = export_records(draft, shape="frames")
    assert stored["meta"] == {"b": {"d": 2}}


# ---------------------------------------------------------------- typed filters


def test_filters_compare_by_the_fields_type(manager_api, dataset, run_jobs):
    dataset_set_metadata_schema(
        dataset=dataset,
        fields=[
            {"name": "age", "type": "integer"},
            {"name": "code", "type": "string"},
            {"name": "seen", "type": "datetime"},
            {"name": "ok", "type": "boolean"},
        ],
    )
    records = [
        row("a", age=9, code="9", seen="2024-01-01T10:00:00Z", ok=True),
        row("b", age=10, code="10", seen="2024-01-01T10:00:00.5Z", ok=False),
        row("c", age=100, code="100", seen="2024-01-02", ok=True),
    ]
    import_records(manager_api, dataset, records, run_jobs)

    def keys(query):
        response = manager_api.get(url(dataset, f"data-rows/?{query}"))
        assert response.status_code == 200, response.content
        return sorted(r["global_key"] for r in response.json()["results"])

    assert keys("metadata__age__gt=9") == ["b", "c"]  # numerically, not as text
    assert keys("metadata__age__lt=10") == ["a"]
    assert keys("metadata__age=10") == ["b"]
    assert keys("metadata__age__in=9,100") == ["a", "c"]
    assert keys("metadata__code=10") == ["b"]  # a string field compares as text
    assert keys("metadata__code__gt=2") == ["a"]  # "9" > "2"; "10", "100" < "2"
    assert keys("metadata__seen__gt=2024-01-01T10:00:00Z") == ["b", "c"]
    assert keys("metadata__seen__lt=2024-01-01T12:00:00%2B01:00") == ["a", "b"]  # an instant
    assert keys("metadata__ok=yes") == ["a", "c"]
    bad = manager_api.get(url(dataset, "data-rows/?metadata__age__gt=old"))
    assert bad.status_code == 400 and "metadata__age__gt" in bad.json()
    # The export's filter and the bulk verbs' JSON filters compare alike.
    exported = manager_api.get(url(dataset, "data-rows/export/?format=ndjson&metadata__age__gt=9"))
    lines = b"".join(exported.streaming_content).splitlines()
    assert sorted(json.loads(x)["global_key"] for x in lines) == ["b", "c"]
    with run_jobs():
        response = manager_api.post(
            url(dataset, "data-rows/delete/"), {"filter": {"metadata__age__gt": "9"}}, format="json"
        )
    assert Job.objects.get(pk=response.json()["id"]).counts["deleted"] == 2


# ---------------------------------------------------------------- CSV columns


def test_csv_export_has_a_column_per_key_and_round_trips(manager_api, typed, run_jobs):
    records = [
        row("a", age=1, note="28", free="28", empty="", text="plain", nested={"x": [1]}),
        row("b", age=2, split="val", free=True, quote='say "hi"', formula="=1+1"),
    ]
    import_records(manager_api, typed, records, run_jobs, mode="create")
    response = manager_api.get(url(typed, "data-rows/export/?format=csv"))
    body = b"".join(response.streaming_content)
    table = list(csv.DictReader(io.StringIO(body.decode())))
    header = next(csv.reader(io.StringIO(body.decode())))
    schema_columns = [f"metadata.{f['name']}" for f in SCHEMA]
    assert header[:3] == ["id", "global_key", "row_data"]
    assert header[3:9] == schema_columns  # the schema's fields first, in its order
    assert header[-2:] == ["metadata", "attachments"]
    assert {"metadata.free", "metadata.nested", "metadata.formula"} <= set(header)
    a = next(r for r in table if r["global_key"] == "a")
    assert a["metadata.note"] == "28"  # a typed string: the text
    assert a["metadata.free"] == '"28"'  # free-form text that reads as a number: quoted
    assert a["metadata.empty"] == '""' and a["metadata.text"] == "plain"
    assert a["metadata.nested"] == '{"x":[1]}' and a["metadata"] == ""
    b = next(r for r in table if r["global_key"] == "b")
    assert b["metadata.formula"] == "'=1+1" and b["metadata.free"] == "true"
    again = import_file(manager_api, typed, "export.csv", body, run_jobs, mode="sync", key="id")
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 2, "deleted": 0, "failed": 0}


def test_csv_export_keeps_keys_past_the_scan_in_the_metadata_column(
    manager_api, dataset, run_jobs, monkeypatch
):
    monkeypatch.setattr("versions.bulk.export.SCAN_ROWS", 1)
    records = [{"id": "r1", **row("a", first=1)}, {"id": "r2", **row("b", later="x")}]
    import_records(manager_api, dataset, records, run_jobs, mode="create")
    body = b"".join(manager_api.get(url(dataset, "data-rows/export/?format=csv")).streaming_content)
    table = {r["global_key"]: r for r in csv.DictReader(io.StringIO(body.decode()))}
    assert "metadata.later" not in table["b"]
    assert json.loads(table["b"]["metadata"]) == {"later": "x"}
    again = import_file(manager_api, dataset, "e.csv", body, run_jobs, mode="sync", key="id")
    assert again.counts["unchanged"] == 2


def test_a_bad_metadata_column_is_a_400(manager_api, dataset):
    for header in (b"global_key,row_data,metadata.\n", b"global_key,row_data,metadata.a.b\n"):
        response = manager_api.post(
            url(dataset, "data-rows/import/"),
            {"file": SimpleUploadedFile("r.csv", header + b"k,s3://k,1\n")},
            format="multipart",
        )
        assert response.status_code == 400 and "metadata." in response.json()["file"][0]


# ---------------------------------------------------------------- page and admin


def test_the_dataset_page_shows_and_edits_the_schema(manager, viewer, typed):
    page = Client()
    page.force_login(viewer)
    html = page.get(f"/datasets/{typed.pk}/").content.decode()
    assert "Metadata fields" in html and "<code>age</code>" in html
    assert f"/datasets/{typed.pk}/metadata-schema/" not in html
    assert page.post(f"/datasets/{typed.pk}/metadata-schema/", {}).status_code == 403
    page.force_login(manager)
    assert (
        f"/datasets/{typed.pk}/metadata-schema/"
        in page.get(f"/datasets/{typed.pk}/").content.decode()
    )
    fields = json.dumps([{"name": "size", "type": "number", "default": 1}])
    response = page.post(
        f"/datasets/{typed.pk}/metadata-schema/", {"fields_json": fields}, follow=True
    )
    assert "Metadata fields saved" in response.content.decode()
    typed.refresh_from_db()
    assert typed.metadata_schema == [
        {"name": "size", "type": "number", "required": False, "default": 1}
    ]
    bad = json.dumps([{"name": "size", "type": "float"}])
    response = page.post(
        f"/datasets/{typed.pk}/metadata-schema/", {"fields_json": bad}, follow=True
    )
    assert "not saved" in response.content.decode() and "unknown type" in response.content.decode()
    typed.refresh_from_db()
    assert typed.metadata_schema[0]["type"] == "number"


def test_the_admin_edits_the_schema_through_the_service(admin_client, typed):
    change = f"/admin/versions/dataset/{typed.pk}/change/"
    form = {
        "name": typed.name,
        "dataset_project": "",
        "description": "",
        "tags": "[]",
        "metadata_schema": json.dumps([{"name": "age", "type": "integer", "default": "x"}]),
    }
    response = admin_client.post(change, form)
    assert response.status_code == 200 and "default" in response.content.decode()
    typed.refresh_from_db()
    assert len(typed.metadata_schema) == len(SCHEMA)  # refused: unchanged
    form["metadata_schema"] = json.dumps([{"name": "age", "type": "integer", "default": 3}])
    assert admin_client.post(change, form).status_code == 302
    typed.refresh_from_db()
    assert typed.metadata_schema == [
        {"name": "age", "type": "integer", "required": False, "default": 3}
    ]


# ---------------------------------------------------------------- inference on a first import


def test_a_first_import_may_infer_the_schema(manager_api, dataset, run_jobs):
    body = (
        b"global_key,row_data,metadata.age,metadata.score,metadata.ok,metadata.seen,"
        b"metadata.name,metadata.mixed,metadata\n"
        b'a,s3://a,28,1,true,2024-05-01,Ann,1,"{""tags"": [1]}"\n'
        b"b,s3://b,29,1.5,false,2024-05-02T10:00:00Z,Bob,x,\n"
    )
    job = import_file(manager_api, dataset, "p.csv", body, run_jobs, infer_schema="true")
    assert job.counts["created"] == 2, errors_of(job)
    schema = manager_api.get(url(dataset, "metadata-schema/")).json()["fields"]
    assert [(f["name"], f["type"], f["required"]) for f in schema] == [
        ("age", "integer", False),
        ("score", "number", False),
        ("ok", "boolean", False),
        ("seen", "datetime", False),
        ("name", "string", False),
    ]
    stored = metadata_of(manager_api, dataset)
    assert stored["a"]["seen"] == "2024-05-01T00:00:00.000000Z" and stored["a"]["ok"] is True
    assert stored["b"]["mixed"] == "x" and stored["a"]["mixed"] == 1  # free-form
    # The schema now types later writes; a second import never infers again.
    later = import_records(
        manager_api, dataset, [row("c", age="x", other=1)], run_jobs, infer_schema="true"
    )
    assert later.counts["failed"] == 1 and "metadata.age" in errors_of(later)[0][1]
    assert len(manager_api.get(url(dataset, "metadata-schema/")).json()["fields"]) == 5


def test_without_the_option_nothing_is_inferred(manager_api, dataset, run_jobs):
    import_records(manager_api, dataset, [row("a", age=1)], run_jobs)
    assert manager_api.get(url(dataset, "metadata-schema/")).json() == {"fields": []}
    bad = manager_api.post(
        url(dataset, "data-rows/import/?infer_schema=maybe"), {"records": [row("b")]}, format="json"
    )
    assert bad.status_code == 400 and "infer_schema" in bad.json()


@pytest.mark.parametrize(
    "value, stored",
    [
        ("2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00.000000Z"),
        ("2024-05-01 14:00:00.25", "2024-05-01T14:00:00.250000Z"),
        ("0999-01-01", "0999-01-01T00:00:00.000000Z"),
        ("0001-01-01T00:00:00+01:00", None),  # before the first UTC instant
        ("2024-13-01", None),
        ("", None),
    ],
)
def test_datetimes_are_stored_as_utc_text_of_one_width(dataset, value, stored):
    from dashboard.errors import Invalid
    from versions.metadata_schema import MetadataSchema

    schema = MetadataSchema([{"name": "t", "type": "datetime"}])
    if stored is None:
        with pytest.raises(Invalid) as raised:
            schema.clean({"t": value}, prefix="metadata")
        assert raised.value.field == "metadata.t"
    else:
        assert schema.clean({"t": value}, prefix="metadata") == {"t": stored}
