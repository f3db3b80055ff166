"""Fixtures for the bulk tests: a dataset with a draft, and helpers that run an import."""

import io
import json

import pytest

from dashboard.models import Job
from versions.models import DatasetVersion
from versions.services import dataset_create, version_create


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Users are made per test; the default hasher would dominate the run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def dataset(db):
    return dataset_create(name="bulk")[0]


@pytest.fixture
def draft(dataset):
    return version_create(dataset=dataset, name="draft")[0]


def ndjson(records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def as_json(records) -> bytes:
    return json.dumps(records).encode()


def as_csv(records, fields=("id", "global_key", "row_data", "metadata", "attachments")) -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    for r in records:
        row = []
        for f in fields:
            v = r.get(f)
            row.append("" if v is None else json.dumps(v) if isinstance(v, dict | list) else v)
        writer.writerow(row)
    return out.getvalue().encode()


ENCODERS = {"csv": as_csv, "json": as_json, "ndjson": ndjson}


def rows(n, start=0, **meta):
    return [
        {
            "global_key": f"gk-{i}",
            "row_data": f"s3://b/{i}.jpg",
            "metadata": {"n": i, **meta},
        }
        for i in range(start, start + n)
    ]


@pytest.fixture
def run_import(run_jobs, manager):
    """run_import(version, body_bytes, fmt, **options) → the finished Job."""
    from versions.bulk.start import rows_import_start

    def run(version, body, fmt, record_type="data_rows", **options):
        with run_jobs():
            job = rows_import_start(
                version=version,
                record_type=record_type,
                fileobj=io.BytesIO(body),
                filename=f"upload.{fmt}",
                size=len(body),
                user=manager,
                **options,
            )
        job.refresh_from_db()
        return job

    return run


def errors_of(job: Job) -> list[dict]:
    return list(
        job.row_errors.order_by("index", "id").values("index", "key", "message", "error_type")
    )


def state_of(version: DatasetVersion) -> dict:
    """{id: (global_key, row_data, content)} of the version's frames."""
    from versions.bulk.export import export_records

    return {
        r["id"]: (r["global_key"], r["row_data"], r["metadata"], r["attachments"])
        for r in export_records(version, shape="data_rows")
    }
