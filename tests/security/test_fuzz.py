"""Fuzz the API from its own OpenAPI schema (schemathesis) as a manager, against a live
server with the demo data: no 5xx, no status code, content type, header or body the schema does
not declare, no schema-violating input accepted. A bounded run (2 examples per operation);
`make fuzz` runs the long one (100 examples, and the coverage phase)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from dashboard.roles import Role

from ..factories import UserFactory

ST = Path(sys.executable).with_name("st")


# Every check schemathesis has, but `positive_data_acceptance`: it expects any schema-valid
# input to be accepted, which an API with rules beyond a schema cannot promise (an opaque
# cursor that decodes to no position, "exactly one of global_keys or data_rows", NUL inside a
# free-form object's keys). The imports also read a bare JSON array (API.md's bulk inputs)
# besides the declared {"records": [...]}, so they run without `negative_data_rejection`.
RUNS = [
    ("all", "positive_data_acceptance", ["--exclude-path-regex", "/import/$"]),
    (
        "all",
        "positive_data_acceptance,negative_data_rejection",
        ["--include-path-regex", "/import/$"],
    ),
]


def schemathesis(url: str, token: str, cwd, *, checks: str, exclude: str, paths: list[str]):
    return subprocess.run(
        [
            str(ST),
            "run",
            url,
            "-H",
            f"Authorization: Token {token}",
            "--max-examples",
            os.environ.get("FUZZ_EXAMPLES", "2"),
            "--phases",
            os.environ.get("FUZZ_PHASES", "examples,fuzzing"),
            "--checks",
            checks,
            "--exclude-checks",
            exclude,
            *paths,
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--seed",
            "20261123",
        ],
        capture_output=True,
        text=True,
        timeout=int(os.environ.get("FUZZ_TIMEOUT", "600")),
        cwd=cwd,
    )


@pytest.mark.django_db(transaction=True)
def test_api_survives_schema_driven_fuzzing(live_server, tmp_path):
    if not ST.exists():
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    call_command("load_demo", verbosity=0)
    token = Token.objects.create(user=UserFactory(username="fuzzer", role=Role.MANAGER)).key
    for checks, exclude, paths in RUNS:
        result = schemathesis(
            f"{live_server.url}/api/schema/",
            token,
            tmp_path,
            checks=checks,
            exclude=exclude,
            paths=paths,
        )
        summary = result.stdout[-3000:]
        print(summary)
        assert result.returncode == 0, summary
        assert "generated" in summary
