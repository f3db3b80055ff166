"""Fuzz the API from its own OpenAPI schema (schemathesis) as a manager, against a live
server with the demo data: no 5xx and no response that contradicts the schema. A bounded run
(2 examples per operation, seconds); `make fuzz` runs the long one."""

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


@pytest.mark.django_db(transaction=True)
def test_api_survives_schema_driven_fuzzing(live_server, tmp_path):
    if not ST.exists():
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    call_command("load_demo", verbosity=0)
    token = Token.objects.create(user=UserFactory(username="fuzzer", role=Role.MANAGER)).key
    result = subprocess.run(
        [
            str(ST),
            "run",
            f"{live_server.url}/api/schema/",
            "-H",
            f"Authorization: Token {token}",
            "--max-examples",
            os.environ.get("FUZZ_EXAMPLES", "2"),
            "--phases",
            "examples,fuzzing",
            "--checks",
            "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance",
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
        cwd=tmp_path,
    )
    summary = result.stdout[-3000:]
    print(summary)
    assert result.returncode == 0, summary
    assert "generated" in summary
