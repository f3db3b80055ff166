"""A corpus of malformed inputs against every way data gets in — bulk import files (data rows
and frames), JSON request bodies, and the create-batch page's upload: each gives a 400 naming
the problem or per-row errors with index and reason; never a 500, and in atomic mode nothing
is left behind. (The bulk engine's own corpus is tests/bulk/test_bad_input.py.)"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from batches.models import Batch
from batches.services import project_create
from dashboard.models import Job
from versions.models import DataRow, FrameEntry
from versions.services import dataset_create, version_create

pytestmark = pytest.mark.django_db

GOOD = {"global_key": "good", "row_data": "s3://b/good.jpg"}
DEEP = 100_000  # far beyond any parser's recursion limit


def deep_json(depth: int = DEEP) -> str:
    return "[" * depth + "]" * depth


def ndjson_line(text: str) -> bytes:
    return (text + "\n").encode()


# (name, file name, body, index of the bad record, words in its error)
IMPORT_CORPUS = [
    (
        "10 MB cell in NDJSON",
        "r.ndjson",
        ndjson_line(json.dumps({"global_key": "big", "row_data": "x" * 10_000_000})),
        None,  # accepted: under BULK_MAX_RECORD_BYTES (16 MiB by default; over it the record
        # is a row error: tests/security/test_record_bounds.py)
        "",
    ),
    (
        "10 MB cell in CSV",
        "r.csv",
        b"global_key,row_data\nbig," + b"x" * 10_000_000 + b"\nc,s3://c\n",
        None,
        "",
    ),
    (
        "deeply nested metadata",
        "r.ndjson",
        ndjson_line(
            '{"global_key": "deep", "row_data": "s3://d", "metadata": {"a": ' + deep_json() + "}}"
        ),
        1,
        "nested",
    ),
    (
        "deeply nested JSON cell in CSV",
        "r.csv",
        b"global_key,row_data,metadata\nd,s3://d," + deep_json().encode() + b"\n",
        1,
        "nested",
    ),
    (
        "deeply nested JSON array file",
        "r.json",
        b"[" + json.dumps(GOOD).encode() + b"," + deep_json().encode() + b"]",
        1,
        "nested",
    ),
    (
        "NaN in metadata",
        "r.ndjson",
        ndjson_line('{"global_key": "nan", "row_data": "s3://n", "metadata": {"v": NaN}}'),
        1,
        "NaN",
    ),
    (
        "number out of range in metadata",
        "r.ndjson",
        ndjson_line('{"global_key": "inf", "row_data": "s3://i", "metadata": {"v": 1e400}}'),
        1,
        "range",
    ),
    (
        "huge integer in metadata",
        "r.ndjson",
        ndjson_line(
            '{"global_key": "huge", "row_data": "s3://h", "metadata": {"v": ' + "9" * 5000 + "}}"
        ),
        1,
        "range",
    ),
    (
        "dollar key in metadata",
        "r.ndjson",
        ndjson_line('{"global_key": "dollar", "row_data": "s3://x", "metadata": {"$set": 1}}'),
        1,
        "may not contain",
    ),
    (
        "dotted key nested in metadata",
        "r.ndjson",
        ndjson_line('{"global_key": "dot", "row_data": "s3://x", "metadata": {"a": {"b.c": 1}}}'),
        1,
        "may not contain",
    ),
    (
        "NUL escape in NDJSON",
        "r.ndjson",
        ndjson_line('{"global_key": "nul", "row_data": "s3://a\\u0000b"}'),
        1,
        "NUL",
    ),
]


@pytest.fixture
def draft(db):
    dataset, _ = dataset_create(name="bad-files")
    return version_create(dataset=dataset, name="draft")[0]


def import_file(client, draft, name, body, **query):
    url = f"/api/v1/datasets/{draft.dataset_id}/data-rows/import/?" + "&".join(
        f"{k}={v}" for k, v in query.items()
    )
    first = GOOD if not name.endswith(".csv") else None
    if first and not name.endswith(".json"):
        body = ndjson_line(json.dumps(first)) + body
    elif name.endswith(".csv"):
        header, _, rest = body.partition(b"\n")
        body = header + b"\n" + b"good,s3://b/good.jpg" + (b",{}" * header.count(b",", 12))
        body = header + b"\ngood,s3://b/good.jpg" + b"," * (header.count(b",") - 1) + b"\n" + rest
    return client.post(url, {"file": SimpleUploadedFile(name, body)}, format="multipart")


@pytest.mark.parametrize(
    "name,body,bad,words", [c[1:] for c in IMPORT_CORPUS], ids=[c[0] for c in IMPORT_CORPUS]
)
def test_import_corpus_gives_row_errors_and_keeps_good_rows(
    name, body, bad, words, draft, manager_api, run_jobs
):
    with run_jobs():
        response = import_file(manager_api, draft, name, body)
    assert response.status_code == 202, response.content[:500]
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == "succeeded", job.error
    errors = list(job.row_errors.order_by("index").values("index", "message"))
    if bad is None:
        assert errors == []
    else:
        assert [e["index"] for e in errors] == [bad], errors
        assert words in errors[0]["message"], errors
    assert DataRow.objects.filter(dataset=draft.dataset, global_key="good").exists()
    assert job.counts["created"] == DataRow.objects.filter(dataset=draft.dataset).count()


@pytest.mark.parametrize(
    "name,body",
    [(c[1], c[2]) for c in IMPORT_CORPUS if c[3] is not None],
    ids=[c[0] for c in IMPORT_CORPUS if c[3] is not None],
)
def test_import_corpus_in_atomic_mode_leaves_nothing(name, body, draft, manager_api, run_jobs):
    with run_jobs():
        response = import_file(manager_api, draft, name, body, on_error="atomic")
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == "failed" and job.errors_count == 1
    assert not DataRow.objects.filter(dataset=draft.dataset).exists()
    assert not FrameEntry.objects.filter(version=draft).exists()


FRAME_CORPUS = [
    (
        "deeply nested rois",
        '{"sources": [{"uri": "s3://a"}], "rois": ' + deep_json() + "}",
        "nested",
    ),
    ("NaN in frame metadata", '{"sources": [{"uri": "s3://a"}], "meta": {"v": NaN}}', "NaN"),
    (
        "dollar key in frame metadata",
        '{"sources": [{"uri": "s3://a"}], "meta": {"$x": 1}}',
        "may not contain",
    ),
    ("sources not a list", '{"sources": "s3://a"}', "sources"),
]


@pytest.mark.parametrize(
    "line,words", [c[1:] for c in FRAME_CORPUS], ids=[c[0] for c in FRAME_CORPUS]
)
def test_frame_import_corpus(line, words, draft, manager_api, run_jobs):
    good = ndjson_line('{"id": "ok", "sources": [{"uri": "s3://ok"}]}')
    with run_jobs():
        response = manager_api.post(
            f"/api/v1/versions/{draft.pk}/frames/import/",
            {"file": SimpleUploadedFile("f.ndjson", good + ndjson_line(line))},
            format="multipart",
        )
    assert response.status_code == 202, response.content[:500]
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == "succeeded", job.error
    errors = list(job.row_errors.values("index", "message"))
    assert [e["index"] for e in errors] == [1] and words in errors[0]["message"], errors
    assert FrameEntry.objects.filter(version=draft).count() == 1


def test_a_file_with_nul_bytes_is_refused_as_not_text(draft, manager_api):
    response = import_file(manager_api, draft, "r.csv", b"global_key,row_data\nnul,s3://a\x00b\n")
    assert response.status_code == 400 and "UTF-8" in response.json()["file"][0]
    assert not Job.objects.exists()


def raw_post(client, url, body: bytes, content_type="application/json"):
    return client.generic("POST", url, body, content_type=content_type)


def test_json_bodies_that_cannot_be_parsed_are_400s(draft, manager_api):
    project = project_create(name="p")
    urls = [
        "/api/v1/datasets/",
        f"/api/v1/versions/{draft.pk}/frames/",
        f"/api/v1/projects/{project.pk}/batches/",
        f"/api/v1/projects/{project.pk}/priorities/",
    ]
    bodies = {
        "deeply nested": deep_json().encode(),
        "latin-1": '{"name": "caf\xe9"}'.encode("latin-1"),
        "utf-16": '{"name": "x"}'.encode("utf-16"),
        "truncated": b'{"name": ',
        "NaN": b'{"name": NaN}',
    }
    for url in urls:
        for what, body in bodies.items():
            response = raw_post(manager_api, url, body)
            assert response.status_code == 400, (url, what, response.status_code)
            assert "detail" in response.json() or response.json(), (url, what)


@pytest.mark.parametrize(
    "body,words",
    [
        ('{"split": Infinity}', "not valid JSON"),
        ('{"v": 1e400}', "out of range"),
        ('{"v": ' + "1" * 5000 + "}", "out of range"),
        ('{"a": {"$b": 1}}', "may not contain"),
        ('{"a.b": 1}', "may not contain"),
        ('{"a": "nul \\u0000"}', "NUL"),
    ],
)
def test_metadata_values_out_of_range_or_with_bad_keys(body, words, draft, manager_api):
    response = manager_api.generic(
        "PUT", f"/api/v1/versions/{draft.pk}/metadata/", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content[:300]
    assert words in json.dumps(response.json()), response.json()


@pytest.mark.parametrize(
    "priority,words",
    [
        ("2147483648", "priority"),
        ("-2147483649", "priority"),
        ("99999999999999999999999999", "priority"),
        ("1.5", "priority"),
        ("1e400", "out of range"),
        ("NaN", "not valid JSON"),
    ],
)
def test_priorities_out_of_range_are_400s(priority, words, manager_api):
    project = project_create(name="p")
    body = '{"name": "b", "data_rows": ["x"], "priority": ' + priority + "}"
    response = raw_post(manager_api, f"/api/v1/projects/{project.pk}/batches/", body.encode())
    assert response.status_code == 400, response.content[:300]
    assert words in json.dumps(response.json()), response.json()
    assert not Batch.objects.exists()


UPLOADS = [
    ("latin-1 keys", "keys.txt", "caf\xe9\n".encode("latin-1"), "UTF-8"),
    ("deeply nested json", "keys.json", deep_json().encode(), "nested"),
    ("broken json", "keys.json", b'["a", ', "JSON"),
    ("ndjson bad line", "keys.ndjson", b'"a"\n{"global_key": \n', "Line 2"),
    ("csv with a huge cell", "keys.csv", b"global_key\n" + b"k" * 200_000 + b"\n", ""),
]


@pytest.mark.parametrize("name,body,words", [u[1:] for u in UPLOADS], ids=[u[0] for u in UPLOADS])
def test_create_batch_page_upload_corpus(name, body, words, client, manager):
    project = project_create(name="p")
    client.force_login(manager)
    response = client.post(
        f"/projects/{project.pk}/batches/new/",
        {"name": "b", "kind": "global_keys", "file": SimpleUploadedFile(name, body)},
    )
    assert response.status_code in (200, 400), response.status_code
    html = response.content.decode()
    assert words in html
    assert not Batch.objects.exists()


def test_nul_characters_anywhere_in_a_request_are_400s(draft, manager_api, client, manager):
    """PostgreSQL can neither store nor look up text with NUL: without the guard each of
    these was a 500 there."""
    project = project_create(name="p")
    client.force_login(manager)
    api_gets = [
        "/api/v1/datasets/a%00b/",
        f"/api/v1/versions/{draft.pk}/frames/?source=a%00b",
        f"/api/v1/datasets/{draft.dataset_id}/data-rows/?global_key=a%00b",
        "/api/v1/jobs/?kind=a%00b",
    ]
    for url in api_gets:
        response = manager_api.get(url)
        assert response.status_code == 400, url
        assert "NUL" in json.dumps(response.json()), url
    for url in ("/datasets/a%00b/", f"/versions/{draft.pk}/?source=a%00b", "/jobs/?kind=a%00b"):
        response = client.get(url)
        assert response.status_code == 400 and "NUL" in response.content.decode(), url
    response = client.post(f"/projects/{project.pk}/batches/new/", {"name": "a\x00b", "rows": "x"})
    assert response.status_code == 400 and "NUL" in response.content.decode()
    response = manager_api.post(
        f"/api/v1/projects/{project.pk}/batches/",
        {"name": "a\x00b", "file": SimpleUploadedFile("keys.txt", b"x\n")},
        format="multipart",
    )
    assert response.status_code == 400 and response.json() == {
        "name": ["Text may not contain NUL characters (\\x00)."],
        "code": "invalid",
    }
    # Where the API takes JSON a form body is not read at all (see test_request_bodies.py).
    response = manager_api.post("/api/v1/datasets/", "name=a%00b", content_type=FORM)
    assert response.status_code == 400
    assert not Batch.objects.exists()


FORM = "application/x-www-form-urlencoded"
