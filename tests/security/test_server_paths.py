"""Answers never tell where files lie on the server: a job's params show a stored file by its
base name (tests/security/test_headers.py), and an unexpected error's message shortens paths."""

import pytest

from dashboard.jobs.runner import internal_reason


@pytest.mark.parametrize(
    "exc, reason",
    [
        (
            FileNotFoundError(2, "No such file or directory", "/srv/labelops/media/imports/a.csv"),
            "FileNotFoundError: [Errno 2] No such file or directory: 'a.csv'",
        ),
        (ValueError("boom"), "ValueError: boom"),
        (RuntimeError("see /tmp/x/y/ and /a"), "RuntimeError: see y and a"),
    ],
)
def test_an_internal_reason_shows_no_server_path(exc, reason):
    assert internal_reason(exc) == reason


def test_an_internal_reason_is_linear_in_a_hostile_message():
    assert internal_reason(ValueError("/" * 200_000 + "x")).endswith("x")
