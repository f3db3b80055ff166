"""CSV exports cannot run as spreadsheet formulas (OWASP: a text cell starting with =, +, -, @,
tab or CR gets a leading `'`), and the round trip stays exact: importing our own export gives
back every value, and exporting again gives the same file."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboard.bulk.csv_cells import FORMULA_START, csv_escape, csv_unescape
from dashboard.bulk.export import export_stream
from dashboard.bulk.readers import read_records
from dashboard.models import Job
from versions.models import DataRow
from versions.services import dataset_create, version_create

pytestmark = pytest.mark.django_db

# value → the cell the export writes for it
TRICKY = {
    "=1+1": "'=1+1",
    '=HYPERLINK("http://evil.example","x")': '\'=HYPERLINK("http://evil.example","x")',
    "-2": "'-2",  # text that looks like a number is still text
    "+x": "'+x",
    "@SUM(A1)": "'@SUM(A1)",
    "\tx": "'\tx",
    "\rx": "'\rx",
    "-": "'-",
    "'=x": "''=x",  # a quote already before a formula character: one more
    "''-3": "'''-3",
    "'\t": "''\t",
    "''": "''",  # quotes not followed by a formula character stay as they are
    "'": "'",
    "'tis": "'tis",
    "plain": "plain",
    "a=b": "a=b",
    " =x": " =x",
}


@pytest.fixture
def draft(db):
    dataset, _ = dataset_create(name="inject")
    return version_create(dataset=dataset, name="draft")[0]


def test_the_escape_table_and_its_inverse():
    for value, cell in TRICKY.items():
        assert csv_escape(value) == cell, value
        assert csv_unescape(cell) == value, value
    assert csv_escape("") == "" == csv_unescape("")


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def export(client, draft, fmt: str) -> bytes:
    response = client.get(f"/api/v1/datasets/{draft.dataset_id}/data-rows/export/?format={fmt}")
    assert response.status_code == 200
    return body_of(response)


def import_file(client, draft, name: str, body: bytes, run_jobs, **query) -> Job:
    url = f"/api/v1/datasets/{draft.dataset_id}/data-rows/import/?" + "&".join(
        f"{k}={v}" for k, v in query.items()
    )
    with run_jobs():
        response = client.post(url, {"file": SimpleUploadedFile(name, body)}, format="multipart")
    assert response.status_code == 202, response.content
    return Job.objects.get(pk=response.json()["id"])


def test_export_neutralises_formulas_and_the_round_trip_is_exact(draft, manager_api, run_jobs):
    records = [
        {"global_key": value, "row_data": value, "metadata": {"v": value}, "attachments": []}
        for value in TRICKY
    ]
    body = "".join(json.dumps(r) + "\n" for r in records).encode()
    job = import_file(manager_api, draft, "rows.ndjson", body, run_jobs, mode="create")
    assert job.counts["created"] == len(TRICKY), list(job.row_errors.values("message"))

    first = export(manager_api, draft, "csv")
    rows = list(csv.reader(io.StringIO(first.decode(), newline="")))
    assert rows[0] == ["id", "global_key", "row_data", "metadata.v", "metadata", "attachments"]
    for row in rows:
        for cell in row:
            assert cell[:1] not in FORMULA_START or cell == "", row
    cells = {row[1] for row in rows[1:]} | {row[2] for row in rows[1:]}
    assert cells == set(TRICKY.values())

    again = import_file(manager_api, draft, "export.csv", first, run_jobs, mode="sync", key="id")
    assert again.status == Job.Status.SUCCEEDED, again.error
    assert again.counts == {
        "created": 0,
        "updated": 0,
        "unchanged": len(TRICKY),
        "deleted": 0,
        "failed": 0,
    }
    stored = DataRow.objects.filter(dataset=draft.dataset)
    assert sorted(stored.values_list("global_key", flat=True)) == sorted(TRICKY)
    assert sorted(stored.values_list("row_data", flat=True)) == sorted(TRICKY)
    exported = [json.loads(x) for x in export(manager_api, draft, "ndjson").splitlines()]
    assert {(r["global_key"], r["row_data"], r["metadata"]["v"]) for r in exported} == {
        (v, v, v) for v in TRICKY
    }
    assert export(manager_api, draft, "csv") == first


def test_a_hand_made_csv_keeps_its_quotes_unless_one_stands_before_a_formula(
    draft, manager_api, run_jobs
):
    body = b"global_key,row_data\n'tis,s3://a\n',s3://b\n'',s3://c\n'=1+1,s3://d\n-5,s3://e\n"
    job = import_file(manager_api, draft, "rows.csv", body, run_jobs, mode="create")
    assert job.status == Job.Status.SUCCEEDED and job.counts["created"] == 5
    keys = dict(DataRow.objects.values_list("row_data", "global_key"))
    assert keys == {
        "s3://a": "'tis",
        "s3://b": "'",
        "s3://c": "''",
        "s3://d": "=1+1",
        "s3://e": "-5",
    }


def test_typed_numbers_and_json_cells_are_written_as_they_are():
    """A number is a number to a spreadsheet too (no formula can hide in it): `-2` stays `-2`
    and reads back as the number; text that looks like one is quoted; dict and list cells are
    JSON (starting with `{` or `[`); the header is escaped like any cell."""
    record = {"n": -2, "x": -0.5, "s": "-2", "b": False, "m": {"f": "=1"}, "l": ["-1"], "z": None}
    fields = [*record, "=cmd"]
    text = "".join(export_stream([record], fmt="csv", fields=fields))
    assert text == 'n,x,s,b,m,l,z,\'=cmd\n-2,-0.5,\'-2,false,"{""f"":""=1""}","[""-1""]",,\n'
    (back,) = read_records(io.BytesIO(text.encode()), "csv", limit=1000)
    assert back.data == {
        "n": "-2",
        "x": "-0.5",
        "s": "-2",
        "b": "false",
        "m": '{"f":"=1"}',
        "l": '["-1"]',
        "z": "",
        "=cmd": "",
    }


def test_json_and_ndjson_exports_are_not_escaped(draft, manager_api, run_jobs):
    body = b'{"global_key": "=1+1", "row_data": "-2"}\n'
    import_file(manager_api, draft, "rows.ndjson", body, run_jobs, mode="create")
    (row,) = json.loads(export(manager_api, draft, "json"))
    assert (row["global_key"], row["row_data"]) == ("=1+1", "-2")
