"""Bad input never gives a 500 or a half-written row: a 400 naming the problem, or per-row
errors with index and reason (the parametrised corpus of the issue)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboard.models import Job

from .conftest import errors_of, state_of

pytestmark = pytest.mark.django_db

GOOD = b'{"global_key": "a", "row_data": "s3://b/a.jpg"}\n'


def post(manager_api, dataset, name, body, **query):
    url = f"/api/v1/datasets/{dataset.pk}/data-rows/import/?" + "&".join(
        f"{k}={v}" for k, v in query.items()
    )
    return manager_api.post(url, {"file": SimpleUploadedFile(name, body)}, format="multipart")


REFUSED = [
    ("empty ndjson", "rows.ndjson", b"", {}, "file", "empty"),
    ("blank lines only", "rows.ndjson", b"\n\n  \n", {}, "file", "empty"),
    ("empty csv", "rows.csv", b"", {}, "file", "empty"),
    (
        "utf-16 with bom",
        "rows.ndjson",
        "\ufeff" + GOOD.decode(),
        {"enc": "utf-16"},
        "file",
        "UTF-8",
    ),
    ("utf-16 csv", "rows.csv", "global_key,row_data\na,x\n", {"enc": "utf-16-le"}, "file", "UTF-8"),
    (
        "unknown csv column",
        "rows.csv",
        b"global_key,row_data,colour\na,s3://x,red\n",
        {},
        "file",
        "colour",
    ),
    ("duplicate csv column", "rows.csv", b"global_key,global_key\na,b\n", {}, "file", "twice"),
    ("unknown format", "rows.xml", b"<rows/>", {}, "format", "format"),
    (
        "bad format param",
        "rows.csv",
        b"global_key\na\n",
        {"q": {"format": "xlsx"}},
        "format",
        "xlsx",
    ),
    ("bad mode", "rows.ndjson", GOOD, {"q": {"mode": "merge"}}, "mode", "merge"),
    ("bad key", "rows.ndjson", GOOD, {"q": {"key": "row_data"}}, "key", "row_data"),
    ("bad on_error", "rows.ndjson", GOOD, {"q": {"on_error": "skip"}}, "on_error", "skip"),
]


@pytest.mark.parametrize(
    "name,body,extra,field,words", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_refused_before_a_job_with_400_naming_the_problem(
    name, body, extra, field, words, dataset, manager_api
):
    if isinstance(body, str):
        body = body.encode(extra["enc"])
    response = post(manager_api, dataset, name, body, **extra.get("q", {}))
    assert response.status_code == 400, response.content
    assert words in json.dumps(response.json()), response.json()
    assert field in response.json()
    assert not Job.objects.exists()


def test_over_the_size_limit_is_a_400(dataset, manager_api, settings):
    settings.BULK_MAX_UPLOAD_BYTES = 100
    response = post(manager_api, dataset, "rows.ndjson", GOOD * 10)
    assert response.status_code == 400
    assert "limit" in response.json()["file"][0]
    assert not Job.objects.exists()


def test_no_file_and_no_array_is_a_400(dataset, manager_api):
    response = manager_api.post(
        f"/api/v1/datasets/{dataset.pk}/data-rows/import/", {"x": 1}, format="json"
    )
    assert response.status_code == 400 and "file" in response.json()
    response = manager_api.post(
        f"/api/v1/datasets/{dataset.pk}/data-rows/import/", [], format="json"
    )
    assert response.status_code == 400


ROW_ERRORS = [
    # (name, file, body, good rows kept, failed indices, words in the first error)
    (
        "invalid ndjson line in the middle",
        "r.ndjson",
        GOOD
        + b'{"global_key": "b", "row_data": \n'
        + b'{"global_key": "c", "row_data": "s3://b/c.jpg"}\n',
        2,
        [1],
        "not valid JSON",
    ),
    ("ndjson line not an object", "r.ndjson", GOOD + b"[1, 2]\n", 1, [1], "object"),
    (
        "latin-1 bytes in ndjson",
        "r.ndjson",
        GOOD + '{"global_key": "b", "row_data": "caf\xe9"}\n'.encode("latin-1"),
        1,
        [1],
        "UTF-8",
    ),
    (
        "latin-1 bytes in csv",
        "r.csv",
        "global_key,row_data\na,s3://a\nb,caf\xe9\nc,s3://c\n".encode("latin-1"),
        2,
        [1],
        "UTF-8",
    ),
    (
        "wrong column count",
        "r.csv",
        b"global_key,row_data\na,s3://a\nb,s3://b,extra\nc,s3://c\n",
        2,
        [1],
        "columns",
    ),
    (
        "unbalanced quotes",
        "r.csv",
        b'global_key,row_data\na,s3://a\n"b,s3://b\nc,s3://c\n',
        1,
        [1],
        "Malformed CSV",
    ),
    (
        "wrong types",
        "r.ndjson",
        GOOD
        + b'{"global_key": "b", "row_data": "s3://b", "metadata": [1]}\n'
        + b'{"global_key": "c", "row_data": {"x": 1}}\n',
        1,
        [1, 2],
        "metadata",
    ),
    (
        "json-in-csv cell that is not json",
        "r.csv",
        b"global_key,row_data,metadata\na,s3://a,{}\nb,s3://b,{not json\n",
        1,
        [1],
        "metadata",
    ),
    (
        "metadata key with a dot",
        "r.ndjson",
        GOOD + b'{"global_key": "b", "row_data": "s3://b", "metadata": {"a.b": 1}}\n',
        1,
        [1],
        "may not contain",
    ),
    (
        "unknown field in json",
        "r.ndjson",
        GOOD + b'{"global_key": "b", "row_data": "s3://b", "colour": "red"}\n',
        1,
        [1],
        "colour",
    ),
    (
        "duplicate keys in one file",
        "r.ndjson",
        GOOD + b'{"global_key": "b", "row_data": "s3://b"}\n' + GOOD,
        2,
        [2],
        "records 0 and 2",
    ),
    (
        "json array broken in the middle",
        "r.json",
        b'[{"global_key": "a", "row_data": "s3://a"}, {"global_key": "b", "row_data": }, {}]',
        1,
        [1],
        "not valid JSON",
    ),
    (
        "json array element not an object",
        "r.json",
        b'[{"global_key": "a", "row_data": "s3://a"}, 7]',
        1,
        [1],
        "object",
    ),
    ("json not an array", "r.json", b'{"global_key": "a"}', 0, [0], "array"),
    (
        "json array without end",
        "r.json",
        b'[{"global_key": "a", "row_data": "s3://a"}',
        1,
        [1],
        "without",
    ),
    (
        "global key too long",
        "r.ndjson",
        GOOD + json.dumps({"global_key": "k" * 300, "row_data": "s3://x"}).encode() + b"\n",
        1,
        [1],
        "255",
    ),
]


@pytest.mark.parametrize(
    "name,body,kept,failed,words", [r[1:] for r in ROW_ERRORS], ids=[r[0] for r in ROW_ERRORS]
)
def test_bad_records_are_row_errors_and_good_rows_are_kept(
    name, body, kept, failed, words, dataset, draft, manager_api, run_jobs
):
    with run_jobs():
        response = post(manager_api, dataset, name, body, mode="create")
    assert response.status_code == 202, response.json()
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == Job.Status.SUCCEEDED, job.error
    errors = errors_of(job)
    assert [e["index"] for e in errors] == failed
    assert words in errors[0]["message"], errors
    assert len(state_of(draft)) == kept
    assert job.counts["created"] == kept


@pytest.mark.parametrize("name,body", [(r[1], r[2]) for r in ROW_ERRORS[:6]])
def test_atomic_mode_writes_nothing_for_any_bad_record(
    name, body, dataset, draft, manager_api, run_jobs
):
    with run_jobs():
        response = post(manager_api, dataset, name, body, mode="create", on_error="atomic")
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == Job.Status.FAILED
    assert job.errors_count >= 1
    assert state_of(draft) == {}


def test_unknown_columns_can_be_ignored(dataset, draft, manager_api, run_jobs):
    with run_jobs():
        response = post(
            manager_api,
            dataset,
            "r.csv",
            b"global_key,row_data,colour\na,s3://a,red\n",
            unknown="ignore",
        )
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == Job.Status.SUCCEEDED and job.counts["created"] == 1


def test_writing_to_a_published_version_is_a_409(dataset, manager_api):
    from versions.services import version_create, version_publish

    version = version_publish(version=version_create(dataset=dataset, name="v")[0])
    response = manager_api.post(
        f"/api/v1/versions/{version.pk}/frames/import/",
        {"file": SimpleUploadedFile("f.ndjson", b'{"sources": [{"uri": "s3://a"}]}\n')},
        format="multipart",
    )
    assert response.status_code == 409


def test_roles(dataset, viewer_api, client):
    url = f"/api/v1/datasets/{dataset.pk}/data-rows/import/"
    assert viewer_api.post(url, [], format="json").status_code == 403
    assert client.post(url).status_code in (401, 403)
    assert viewer_api.get(f"/api/v1/datasets/{dataset.pk}/data-rows/export/").status_code == 200
