"""A client generated from the live OpenAPI schema with openapi-python-client imports every
module and scripts a day's work with no hand-written request: create a dataset, import rows
from a file, create a project and a batch of those rows, export the batch."""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from dashboard.roles import Role

from ..factories import UserFactory

GENERATOR = Path(sys.executable).with_name("openapi-python-client")

# Streamed exports are NDJSON and CSV, which the generator reads as bytes when told so.
CONFIG = """\
content_type_overrides:
  application/x-ndjson: application/octet-stream
  text/csv: application/octet-stream
post_hooks: []
"""

SCRIPT = r"""
import importlib, io, json, os, pkgutil, time

import labelops_api
from labelops_api import AuthenticatedClient
from labelops_api.api.datasets import datasets_create, datasets_data_rows_import_create
from labelops_api.api.jobs import jobs_retrieve
from labelops_api.api.projects import (
    projects_batches_create, projects_create, projects_export_stream_retrieve,
)
from labelops_api.models import (
    BatchInputRequest, DatasetCreateRequest, DatasetsDataRowsImportCreateFilesBody,
    ProjectInputRequest,
)
from labelops_api.types import File

modules = [m.name for m in pkgutil.walk_packages(labelops_api.__path__, "labelops_api.")]
for name in modules:
    importlib.import_module(name)

client = AuthenticatedClient(
    base_url=os.environ["LABELOPS_URL"], token=os.environ["LABELOPS_TOKEN"],
    prefix="Token", raise_on_unexpected_status=True,
)
dataset = datasets_create.sync_detailed(
    client=client, body=DatasetCreateRequest(name="generated")
)
assert dataset.status_code == 201, dataset.content
dataset_id = dataset.parsed.id

rows = "".join(
    json.dumps({"global_key": f"gen-{i}", "row_data": f"https://img/{i}.jpg"}) + "\n"
    for i in range(5)
)
upload = DatasetsDataRowsImportCreateFilesBody(
    file=File(payload=io.BytesIO(rows.encode()), file_name="rows.ndjson")
)
started = datasets_data_rows_import_create.sync_detailed(
    dataset_id, client=client, body=upload
)
assert started.status_code == 202, started.content
job_id = started.parsed.id
for _ in range(100):
    job = jobs_retrieve.sync(job_id, client=client)
    if str(job.status) in ("succeeded", "failed", "cancelled"):
        break
    time.sleep(0.1)
assert str(job.status) == "succeeded" and job.counts.created == 5, job.to_dict()

project = projects_create.sync_detailed(client=client, body=ProjectInputRequest(name="gen"))
assert project.status_code == 201, project.content
project_id = project.parsed.id
batch = projects_batches_create.sync_detailed(
    project_id,
    client=client,
    body=BatchInputRequest(name="first", global_keys=[f"gen-{i}" for i in range(5)]),
)
assert batch.status_code == 201, batch.content
assert batch.parsed.size == 5 and not batch.parsed.failed_data_rows

exported = projects_export_stream_retrieve.sync_detailed(
    project_id, client=client, batch_ids=batch.parsed.id
)
assert exported.status_code == 200, exported.content
lines = [json.loads(line) for line in exported.content.decode().splitlines()]
assert sorted(line["data_row"]["global_key"] for line in lines) == [
    f"gen-{i}" for i in range(5)
]
print(f"imported {len(modules)} modules; exported {len(lines)} rows")
"""


@pytest.mark.django_db(transaction=True)
def test_a_generated_client_imports_every_module_and_scripts_a_batch(live_server, tmp_path):
    if not GENERATOR.exists():
        pytest.skip("openapi-python-client is not installed (pip install -e '.[dev]')")
    request = urllib.request.Request(
        f"{live_server.url}/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}
    )
    with urllib.request.urlopen(request) as answer:
        schema = json.load(answer)
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    (tmp_path / "config.yaml").write_text(CONFIG)
    generated = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            "schema.json",
            "--meta",
            "none",
            "--output-path",
            "labelops_api",
            "--config",
            "config.yaml",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout, generated.stdout

    token = Token.objects.create(user=UserFactory(username="scripter", role=Role.MANAGER)).key
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=tmp_path,
        env={**os.environ, "LABELOPS_URL": live_server.url, "LABELOPS_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "exported 5 rows" in run.stdout
