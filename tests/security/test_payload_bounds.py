"""Payloads are bounded where they are written and never read to render lists or feeds: an
annotation is at most LABEL_MAX_ANNOTATION_BYTES (400 naming `annotation` above it, on the API,
the labeling page and the service), and the overview, the jobs page and the version pages do not
select annotations, job params/results/checkpoints or version metadata, whatever their size."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from batches.models import Label, QueueEntry
from batches.services import batch_create, label_create, queue_next
from dashboard.errors import Invalid
from dashboard.models import Job
from versions.models import DatasetVersion
from versions.services import dataset_create, version_create, version_publish

from ..factories import DataRowFactory, LabelFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

BIG = 2 * 1024 * 1024  # above the default limit: written directly, as data from before it


def big_annotation() -> dict:
    return {"classes": ["car"], "notes": "x" * BIG}


def column(model, name: str) -> str:
    return f"{connection.ops.quote_name(model._meta.db_table)}." + connection.ops.quote_name(name)


# One small key read out of a JSON column in the database (a job list's title names a
# dataset by `params.dataset_id`): not the column's payload.
KEY_EXTRACTS = (
    re.compile(r"JSON_(?:EXTRACT|TYPE)\((\S+), '?\$\.\"?\w+\"?'?\)"),  # SQLite
    re.compile(r"\((\S+) ->> '\w+'\)"),  # PostgreSQL
)


def selected(queries, model, name: str) -> list[str]:
    """The SELECTs that read `model.name` (as a column of the select list; reading one key of
    a JSON column in the database is not reading it)."""
    needle = column(model, name)
    found = []
    for q in queries:
        if not q["sql"].lstrip().upper().startswith("SELECT"):
            continue
        select_list = q["sql"].split(" FROM ")[0]
        for extract in KEY_EXTRACTS:
            select_list = extract.sub("KEY", select_list)
        if needle in select_list:
            found.append(q["sql"])
    return found


@pytest.fixture
def heavy(db):
    """Three huge labels, a job with huge params/result/checkpoint, a version with big metadata."""
    for _ in range(3):
        LabelFactory(annotation=big_annotation())
    payload = {"blob": "y" * BIG}
    Job.objects.create(
        kind="export_batches",
        status="succeeded",
        params=payload,
        result=payload,
        checkpoint=payload,
    )
    Job.objects.create(kind="export_batches", status="running", params=payload, result=payload)
    dataset = dataset_create(name="heavy")[0]
    root, _ = version_create(dataset=dataset, name="v1", metadata=payload)
    published = version_publish(version=root)
    version_create(dataset=dataset, name="v2", parent=published, metadata=payload)
    return dataset


def test_the_overview_reads_no_payload(client, viewer, heavy):
    client.force_login(viewer)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "labelled" in body and "xxxxxxxxxx" not in body
    assert selected(ctx.captured_queries, Label, "annotation") == []
    for field in ("params", "result", "checkpoint"):
        assert selected(ctx.captured_queries, Job, field) == [], field
    assert len(response.content) < 200_000


def test_the_jobs_page_reads_no_job_payload(client, viewer, heavy):
    client.force_login(viewer)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/jobs/")
    assert response.status_code == 200 and "Export batches (NDJSON)" in response.content.decode()
    for field in ("params", "result", "checkpoint"):
        assert selected(ctx.captured_queries, Job, field) == [], field


def test_the_job_api_list_reads_no_checkpoint(viewer_api, heavy):
    with CaptureQueriesContext(connection) as ctx:
        response = viewer_api.get("/api/v1/jobs/")
    assert response.status_code == 200 and len(response.json()["results"]) >= 2
    assert selected(ctx.captured_queries, Job, "checkpoint") == []


def test_version_pages_read_no_metadata_of_other_versions(client, viewer, heavy):
    client.force_login(viewer)
    v2 = DatasetVersion.objects.get(name="v2")
    for url in (f"/datasets/{heavy.pk}/", f"/versions/{v2.pk}/diff/"):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, url
        # The page's own version (and its parent) are read whole, by id; no list is.
        id_column = column(DatasetVersion, "id")
        lists = [
            sql
            for sql in selected(ctx.captured_queries, DatasetVersion, "metadata")
            if f"{id_column} = " not in sql
        ]
        assert lists == [], url


# --- The annotation limit ----------------------------------------------------------------------


@pytest.fixture
def limit(settings):
    settings.LABEL_MAX_ANNOTATION_BYTES = 100
    return 100


@pytest.fixture
def held(labeler):
    project = ProjectFactory()
    rows = [DataRowFactory() for _ in range(2)]
    batch_create(project=project, name="b", data_rows=[r.pk for r in rows])
    entry = queue_next(project=project, user=labeler)
    return project, entry


def sized(n: int) -> dict:
    """An annotation whose compact JSON is exactly `n` bytes (with a 2-byte character)."""
    base = {"note": "é"}
    pad = n - len(json.dumps(base, separators=(",", ":"), ensure_ascii=False).encode())
    annotation = {"note": "é" + "a" * pad}
    assert len(json.dumps(annotation, separators=(",", ":"), ensure_ascii=False).encode()) == n
    return annotation


def test_submit_at_the_limit_is_accepted_above_it_400(labeler_api, limit, held):
    project, entry = held
    url = f"/api/v1/projects/{project.pk}/queue/{entry.pk}/submit/"
    over = labeler_api.post(url, {"annotation": sized(limit + 1)}, format="json")
    assert over.status_code == 400 and "annotation" in over.json()
    assert "100 bytes" in over.json()["annotation"][0]
    assert not Label.objects.exists()
    assert QueueEntry.objects.get(pk=entry.pk).state == "reserved"  # still theirs
    ok = labeler_api.post(url, {"annotation": sized(limit)}, format="json")
    assert ok.status_code == 201, ok.content
    assert Label.objects.get().annotation == sized(limit)


def test_the_labeling_page_refuses_an_annotation_above_the_limit(client, labeler, limit, held):
    project, entry = held
    client.force_login(labeler)
    response = client.post(
        f"/projects/{project.pk}/label/",
        {"action": "submit", "entry": entry.pk, "annotation": json.dumps(sized(limit + 1))},
    )
    assert response.status_code == 400  # the row shown again with the reason
    assert "at most 100 bytes" in response.content.decode()
    assert not Label.objects.exists()


def test_the_service_refuses_it_on_every_write(limit, held):
    project, entry = held
    author = UserFactory()
    with pytest.raises(Invalid) as exc:
        label_create(entry=entry, author=author, annotation=sized(limit + 1))
    assert exc.value.field == "annotation"
    assert not Label.objects.exists()


def test_the_default_limit_is_one_mebibyte(settings):
    assert settings.LABEL_MAX_ANNOTATION_BYTES == 1024 * 1024
