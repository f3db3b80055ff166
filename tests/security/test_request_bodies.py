"""Request bodies: nothing reads a body before the caller is known and CSRF passed; a large
body is refused from its headers alone unless a signed-in manager sends it where it belongs
(API JSON up to 64 MB, file uploads); row lists are counted while read, never built whole;
the API takes what its schema says (JSON; multipart only for uploads) and refuses anything
else by name — nothing is misread or dropped silently."""

import itertools
import json
import socket
import string
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from batches.models import Batch, Project
from batches.services import project_create
from dashboard.models import Job
from versions.models import Dataset, DatasetVersion
from versions.services import dataset_create, version_create

from ..factories import BatchFactory, DataRowFactory

pytestmark = pytest.mark.django_db

MB = 2**20
CSRF = "c" * 32
BOUNDARY = "b0undary"
# Every two-letter key once (676 keys, 3 bytes a line): 10 million keys are 30 MB, as found.
TWO_LETTER_KEYS = b"".join(
    (a + b).encode() + b"\n" for a, b in itertools.product(string.ascii_lowercase, repeat=2)
)


class LazyBody:
    """A request body made on demand (parts: bytes, or (chunk, times)); counts what is read."""

    def __init__(self, *parts):
        self.size = sum(len(p) if isinstance(p, bytes) else len(p[0]) * p[1] for p in parts)
        self.read_bytes = 0
        self._chunks = self._generate(parts)
        self._buffer = b""

    @staticmethod
    def _generate(parts):
        for part in parts:
            if isinstance(part, bytes):
                yield part
                continue
            chunk, times = part
            per = max(1, 256 * 1024 // len(chunk))
            while times > 0:
                yield chunk * min(per, times)
                times -= per

    def read(self, size=-1):
        pieces, have = [self._buffer], len(self._buffer)
        while size is None or size < 0 or have < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            pieces.append(chunk)
            have += len(chunk)
        data = b"".join(pieces)
        if size is not None and size >= 0:
            data, self._buffer = data[:size], data[size:]
        else:
            self._buffer = b""
        self.read_bytes += len(data)
        return data

    def readline(self, size=-1):
        while b"\n" not in self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        end = self._buffer.find(b"\n") + 1 or len(self._buffer)
        if size is not None and size >= 0:
            end = min(end, size)
        line, self._buffer = self._buffer[:end], self._buffer[end:]
        self.read_bytes += len(line)
        return line


def multipart(fields: dict, content: tuple, *, filename="keys.txt") -> LazyBody:
    head = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    )
    head += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    return LazyBody(head, content, f"\r\n--{BOUNDARY}--\r\n".encode())


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
FORM = "application/x-www-form-urlencoded"


def post_stream(client, path: str, body: LazyBody, content_type: str, **extra):
    """POST `body` without ever holding it: the server side reads it from the stream."""
    environ = {"wsgi.input": body, "CONTENT_LENGTH": str(body.size), "CONTENT_TYPE": content_type}
    return client.generic("POST", path, b"", content_type, **environ, **extra)


def peak_memory(call):
    """(result, peak bytes allocated while `call` ran)."""
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def csrf_client() -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = CSRF
    return client


@pytest.fixture
def project(db):
    return project_create(name="bodies")


# ---------------------------------------------------------------- #6: large anonymous bodies


@pytest.mark.parametrize(
    "body,content_type",
    [
        (multipart({"csrfmiddlewaretoken": CSRF}, (b"x" * 1024, 40 * 1024)), MULTIPART),
        (LazyBody(f"csrfmiddlewaretoken={CSRF}&username=".encode(), (b"a", 60 * MB)), FORM),
    ],
    ids=["40 MB upload", "60 MB form"],
)
def test_a_large_anonymous_post_to_sign_in_is_refused_unread(body, content_type):
    response, peak = peak_memory(
        lambda: post_stream(csrf_client(), "/accounts/login/", body, content_type)
    )
    assert response.status_code == 413
    assert "2.5 MB" in response.content.decode()
    assert body.read_bytes == 0
    assert peak < 5 * MB


@pytest.mark.parametrize("who", ["anonymous", "viewer", "labeler", "bad token"])
def test_a_large_upload_to_the_api_is_refused_unread_unless_from_a_manager(
    who, project, viewer_api, labeler_api
):
    client = {"viewer": viewer_api, "labeler": labeler_api}.get(who) or Client()
    extra = {"HTTP_AUTHORIZATION": "Token " + "0" * 40} if who == "bad token" else {}
    body = multipart({"name": "b"}, (TWO_LETTER_KEYS, 10_000))  # 20 MB
    response = post_stream(
        client, f"/api/v1/projects/{project.pk}/batches/", body, MULTIPART, **extra
    )
    assert response.status_code == 413
    assert "managers" in response.json()["detail"]
    assert body.read_bytes == 0
    assert not Batch.objects.exists()


def test_a_small_body_from_a_viewer_gets_the_usual_403(project, viewer_api):
    response = viewer_api.post(
        f"/api/v1/projects/{project.pk}/batches/", {"name": "b", "global_keys": ["k"]}, "json"
    )
    assert response.status_code == 403


def test_a_manager_may_send_json_past_the_form_limit_but_not_past_64_mb(manager, manager_api):
    dataset, _ = dataset_create(name="big")
    url = f"/api/v1/datasets/{dataset.pk}/data-rows/import/"
    records = [{"global_key": f"k{i}", "row_data": "s3://b/" + "x" * 200} for i in range(15_000)]
    body = json.dumps(records).encode()
    assert len(body) > 3 * MB
    response = manager_api.post(url, body, content_type="application/json")
    assert response.status_code == 202, response.content
    too_big = LazyBody(b"[", (b'"x",', 17 * MB), b'"x"]')
    response = post_stream(manager_api, url, too_big, "application/json")
    assert response.status_code == 413 and too_big.read_bytes == 0


def test_a_large_form_body_is_refused_even_from_a_manager(manager_api, project):
    body = LazyBody(b"name=", (b"a", 3 * MB))
    response = post_stream(manager_api, f"/api/v1/projects/{project.pk}/batches/", body, FORM)
    assert response.status_code == 413 and body.read_bytes == 0


def test_a_large_upload_by_session_from_another_site_is_refused_unread(client, manager, project):
    client.force_login(manager)
    body = multipart({"name": "b"}, (TWO_LETTER_KEYS, 2_000))
    response = post_stream(
        client, f"/projects/{project.pk}/batches/new/", body, MULTIPART, HTTP_ORIGIN="https://evil"
    )
    assert response.status_code == 413 and body.read_bytes == 0


def test_the_nul_check_of_page_forms_runs_after_csrf():
    """A forged form is refused by CSRF (403) before anything looks at its fields."""
    response = csrf_client().post("/accounts/login/", {"username": "a\x00b", "password": "x"})
    assert response.status_code == 403


def test_the_nul_check_of_page_forms_still_answers_a_signed_in_user(client, manager, project):
    client.force_login(manager)
    response = client.post(f"/projects/{project.pk}/batches/new/", {"name": "a\x00b", "rows": "k"})
    assert response.status_code == 400 and "NUL" in response.content.decode()


def _send_headers_then_wait(server, path: str, content_type: str) -> bytes:
    """Announce a 300 MB body, send 64 KB of it, and read what the server answers."""
    host, port = server.thread.host, server.thread.port
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {300 * MB}\r\nCookie: csrftoken={CSRF}\r\n\r\n"
            ).encode()
        )
        sock.sendall(b"x" * 65536)
        return sock.recv(4096)


@pytest.mark.django_db(transaction=True)
def test_a_live_server_answers_a_large_anonymous_post_before_the_body_is_sent(live_server):
    """Over a real socket the refusal comes while the client is still sending (memory is
    measured above: Django's development server drains an unread body after answering)."""
    project = Project.objects.create(name="live")
    for path in ("/accounts/login/", f"/api/v1/projects/{project.pk}/batches/"):
        reply = _send_headers_then_wait(live_server, path, MULTIPART)
        assert reply.startswith(b"HTTP/1.1 413"), (path, reply[:200])


# ---------------------------------------------------------------- #8: row lists counted


def test_ten_million_keys_are_refused_after_the_limit_not_after_the_list(manager_api, project):
    body = multipart({"name": "b"}, (TWO_LETTER_KEYS, 10_000_000 // 676))
    url = f"/api/v1/projects/{project.pk}/batches/"
    response, peak = peak_memory(lambda: post_stream(manager_api, url, body, MULTIPART))
    assert response.status_code == 400
    assert "At most 100000 rows" in response.json()["global_keys"][0]
    assert peak < 100 * MB, peak
    assert not Batch.objects.exists()


def test_a_json_list_past_the_limit_is_refused_before_it_is_built(manager_api, project):
    keys = b",".join(b'"' + k + b'"' for k in TWO_LETTER_KEYS.split()) + b","
    body = LazyBody(b'{"name_prefix": "p", "global_keys": [', (keys, 8_000_000 // 676), b'"zz"]}')
    url = f"/api/v1/projects/{project.pk}/batches/bulk/"
    response, peak = peak_memory(lambda: post_stream(manager_api, url, body, "application/json"))
    assert response.status_code == 400
    assert "At most 1000000 rows" in response.json()["global_keys"][0]
    assert peak < 250 * MB, peak
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    "field,value,query", [("global_keys", "k" * 256, ""), ("data_rows", "r" * 65, "?key=id")]
)
def test_a_key_longer_than_its_model_field_is_refused_naming_the_field(
    field, value, query, manager_api, project
):
    url = f"/api/v1/projects/{project.pk}/batches/"
    response = manager_api.post(url, {"name": "b", field: ["ok", value]}, format="json")
    assert response.status_code == 400 and "at most" in response.json()[field][0]
    upload = SimpleUploadedFile("keys.txt", f"ok\n{value}\n".encode())
    response = manager_api.post(url + query, {"name": "b", "file": upload}, format="multipart")
    assert response.status_code == 400 and "at most" in response.json()[field][0]
    assert not Batch.objects.exists()


def test_the_create_batch_page_counts_an_upload_too(client, manager, project):
    client.force_login(manager)
    upload = SimpleUploadedFile("keys.txt", TWO_LETTER_KEYS * 150)  # 101,400 keys
    response = client.post(
        f"/projects/{project.pk}/batches/new/", {"name": "b", "kind": "global_keys", "file": upload}
    )
    assert "At most 100000 rows" in response.content.decode()
    assert not Batch.objects.exists()


# ---------------------------------------------------------------- #14: what the schema says


def test_a_form_body_where_json_is_expected_is_a_400_that_says_so(manager_api, project):
    batches = [BatchFactory(project=project) for _ in range(2)]
    url = f"/api/v1/projects/{project.pk}/export/"
    response = manager_api.post(url, {"batch_ids": [b.pk for b in batches]}, format="multipart")
    assert response.status_code == 400
    assert "multipart/form-data" in response.json()["detail"]
    response = manager_api.post("/api/v1/datasets/", "name=d&tags=a", content_type=FORM)
    assert response.status_code == 400 and FORM in response.json()["detail"]
    assert not Job.objects.exists() and not Dataset.objects.exists()


@pytest.mark.parametrize("by", ["token", "session"])
def test_a_repeated_multipart_field_is_refused_naming_it(by, manager, manager_api, project):
    """By session DRF's CSRF check reads the form first, through the same parser."""
    DataRowFactory(global_key="k1")
    url = f"/api/v1/projects/{project.pk}/batches/"
    if by == "session":
        manager_api = APIClient(enforce_csrf_checks=True)
        manager_api.force_login(manager)
        manager_api.cookies["csrftoken"] = CSRF
        manager_api.credentials(HTTP_X_CSRFTOKEN=CSRF)
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\none\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\ntwo\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="k.txt"\r\n\r\n'
        f"k1\n\r\n--{BOUNDARY}--\r\n"
    )
    response = manager_api.generic("POST", url, body, MULTIPART)
    assert response.status_code == 400 and "name" in response.json()
    assert not Batch.objects.exists()


def test_an_upload_with_one_of_each_field_still_works(manager_api, project):
    DataRowFactory(global_key="k1")
    upload = SimpleUploadedFile("k.txt", b"k1\n")
    response = manager_api.post(
        f"/api/v1/projects/{project.pk}/batches/",
        {"name": "b", "priority": "3", "file": upload},
        format="multipart",
    )
    assert response.status_code == 201 and response.json()["size"] == 1


def _bodies(project, batch, dataset, version):
    p, b = f"/api/v1/projects/{project.pk}", f"/api/v1/projects/{project.pk}/batches/{batch.pk}"
    return [
        ("post", "/api/v1/datasets/", {"name": "d2", "tag": ["x"]}, "tag"),
        ("patch", f"/api/v1/datasets/{dataset.pk}/", {"nmae": "x"}, "nmae"),
        ("post", f"/api/v1/datasets/{dataset.pk}/versions/", {"name": "v2", "desc": ""}, "desc"),
        ("patch", f"/api/v1/versions/{version.pk}/", {"name": "x", "status": "p"}, "status"),
        ("post", f"/api/v1/versions/{version.pk}/snapshot/", {"publish_nam": "x"}, "publish_nam"),
        ("post", "/api/v1/projects/", {"name": "p2", "classes": []}, "classes"),
        ("patch", f"{p}/", {"label_class": []}, "label_class"),
        ("post", f"{p}/batches/", {"name": "b2", "global_keys": ["k"], "prio": 1}, "prio"),
        ("patch", f"{b}/", {"priority": 1, "size": 3}, "size"),
        ("post", f"{p}/export/", {"batch_id": [batch.pk]}, "batch_id"),
        ("post", f"{p}/batches/reorder/", {"batch_ids": [batch.pk], "x": 1}, "x"),
        ("post", f"{p}/priorities/", {"items": [], "item": []}, "item"),
        ("post", f"/api/v1/versions/{version.pk}/frames/", {"frames": [], "frame": []}, "frame"),
        (
            "patch",
            f"/api/v1/versions/{version.pk}/frames/",
            {"frames": [], "without": []},
            "without",
        ),
        ("post", f"/api/v1/versions/{version.pk}/frames/delete/", {"ids": [], "id": "x"}, "id"),
        (
            "post",
            f"/api/v1/datasets/{dataset.pk}/data-rows/update/",
            {"set": {}, "where": {}},
            "where",
        ),
        (
            "post",
            f"/api/v1/datasets/{dataset.pk}/data-rows/delete/",
            {"ids": [], "filters": {}},
            "filters",
        ),
        (
            "post",
            f"/api/v1/datasets/{dataset.pk}/data-rows/import/",
            {"records": [], "mode": "x"},
            "mode",
        ),
    ]


def test_unknown_body_fields_are_refused_naming_them_on_every_endpoint(manager_api, project):
    batch = BatchFactory(project=project, name="b")
    dataset, _ = dataset_create(name="d")
    version, _ = version_create(dataset=dataset, name="v")
    before = (Dataset.objects.count(), DatasetVersion.objects.count(), Project.objects.count())
    for method, url, body, field in _bodies(project, batch, dataset, version):
        response = getattr(manager_api, method)(url, body, format="json")
        assert response.status_code == 400, (url, response.content)
        assert field in response.json(), (url, response.json())
    after = (Dataset.objects.count(), DatasetVersion.objects.count(), Project.objects.count())
    assert after == before
    assert not Job.objects.exists() and Batch.objects.get().priority is None
