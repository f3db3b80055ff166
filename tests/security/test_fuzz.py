"""Fuzz the API from its own OpenAPI schema (schemathesis) as a manager, against a live
server with the demo data: no 5xx, no status code, content type, header or body the schema does
not declare, no schema-violating input accepted, no schema-valid input refused with a 400. A
bounded run (2 examples per operation); `make fuzz` runs the long one (100 examples, and the
coverage phase). FUZZ_SEED picks another seed."""

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


# Every check schemathesis has. `positive_data_acceptance` (a request the schema allows is
# never refused with a 400) and `negative_data_rejection` run as their variants in
# fuzz_hooks.py, each with one exception a schema cannot state (an uploaded file's content; a
# bare array where API.md takes one beside the declared object). Responses may take up to the
# request timeout: jobs run inside the test server's requests (sync) on a shared machine, and
# speed is measured in bench/.
# Strings hold no NUL: the API refuses it in every text, key and parameter (PostgreSQL cannot
# store it; the schema's description says so), which OpenAPI cannot state for the keys of
# free-form objects.
HOOKS = "tests.security.fuzz_hooks"
EXCLUDED = "positive_data_acceptance,negative_data_rejection"
TIMEOUT = "30"


def schemathesis(url: str, token: str, cwd):
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": HOOKS,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    }
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
            "all",
            "--exclude-checks",
            EXCLUDED,
            "--generation-allow-x00",
            "false",
            "--workers",
            "1",
            "--request-timeout",
            TIMEOUT,
            "--max-response-time",
            TIMEOUT,
            "--seed",
            os.environ.get("FUZZ_SEED", "20261123"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=int(os.environ.get("FUZZ_TIMEOUT", "600")),
        cwd=cwd,
    )


@pytest.mark.django_db(transaction=True)
def test_api_survives_schema_driven_fuzzing(live_server, tmp_path):
    if not ST.exists():
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    call_command("load_demo", verbosity=0)
    token = Token.objects.create(user=UserFactory(username="fuzzer", role=Role.MANAGER)).key
    result = schemathesis(f"{live_server.url}/api/schema/", token, tmp_path)
    summary = result.stdout[-3000:]
    print(summary)
    assert result.returncode == 0, summary
    assert "generated" in summary
