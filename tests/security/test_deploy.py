"""Production settings pass Django's deployment checks, and secrets come only from the
environment."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, **env):
    # A clean production-like environment: no dev secret, and not the browser tests'
    # DJANGO_ALLOW_ASYNC_UNSAFE (which `check --deploy` rightly flags).
    dropped = ("SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="x" * 30 + "production-only-secret-from-the-environment",
        ALLOWED_HOSTS="labelops.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_the_development_secret():
    result = manage("check", DEBUG="false", ALLOWED_HOSTS="labelops.example.com")
    assert result.returncode != 0
    assert "Set SECRET_KEY in the environment" in result.stderr
