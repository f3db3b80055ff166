"""schemathesis hooks for tests/security/test_fuzz.py (loaded through SCHEMATHESIS_HOOKS): two
built-in checks, each with one exception the schema cannot state.

`positive_data_acceptance_but_files`: a request the schema allows is never refused with a 400,
except for uploaded files — a multipart `file` is a CSV, JSON or NDJSON document (or one key per
line), a grammar no JSON Schema states, and schemathesis fills a `format: binary` part with
random bytes. Those requests still go through every other check; only their 400 ("this file is
not one I can read") is allowed. Every JSON body is held to the full check.

`negative_data_rejection_but_bare_arrays`: a request the schema refuses is refused, except for
a bare JSON array where the schema declares `{"records": [...]}` or `{"frames": [...]}`: API.md
lets bulk inputs and frames come as a bare array too, and a schema that is "an object or an
array" breaks generated clients (openapi-python-client), so the schema names the object only."""

import schemathesis
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
)

# The endpoints that read a bare array as their `{records | frames: [...]}` body.
BARE_ARRAYS = ("/import/", "/versions/{version_id}/frames/")


@schemathesis.check
def positive_data_acceptance_but_files(ctx, response, case):
    if (case.media_type or "").startswith("multipart/form-data"):
        return None
    return positive_data_acceptance(ctx, response, case)


@schemathesis.check
def negative_data_rejection_but_bare_arrays(ctx, response, case):
    if isinstance(case.body, list) and case.operation.path.endswith(BARE_ARRAYS):
        return None
    return negative_data_rejection(ctx, response, case)
