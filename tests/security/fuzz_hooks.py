"""schemathesis hooks for tests/security/test_fuzz.py (loaded through SCHEMATHESIS_HOOKS).

`positive_data_acceptance`, except for uploaded files: a multipart `file` is a CSV, JSON or
NDJSON document (or one key per line), a grammar no JSON Schema states, and schemathesis fills a
`format: binary` part with random bytes. Those requests still go through every other check (no
5xx, declared status codes and bodies); only their 400 — "this file is not a CSV/JSON/NDJSON I
can read" — is allowed. Every JSON body is held to the full check."""

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance


@schemathesis.check
def positive_data_acceptance_but_files(ctx, response, case):
    if (case.media_type or "").startswith("multipart/form-data"):
        return None
    return positive_data_acceptance(ctx, response, case)
