"""What the OpenAPI schema says beyond each view's own `extend_schema`: the error answers
every operation can give, in one `Error` shape, and the cursor parameters of every paged list.

Generated clients (openapi-python-client, schemathesis' conformance checks) rely on both: an
answer whose status code the schema does not declare is a failure for them."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = "Error"
ERROR_COMPONENT: dict[str, Any] = {
    "type": "object",
    "description": (
        "Every error answer: `detail` (a message) or field errors `{field: [message, ...]}`, "
        "and always a stable machine-readable `code` (invalid, parse_error, "
        "not_authenticated, permission_denied, not_found, method_not_allowed, conflict, "
        "unsupported_media_type, throttled, ...)."
    ),
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
    },
    "required": ["code"],
    "additionalProperties": True,
}

# Status → what it means; which operations can answer it is decided in `error_codes`.
ERROR_DESCRIPTIONS = {
    "400": (
        "Invalid input: a field error names the field, or `detail` says what is wrong (also "
        "a body in a media type the endpoint does not read)."
    ),
    "401": "No or invalid credentials (`Authorization: Token <key>` or a session).",
    "403": "Signed in, but the role does not allow this.",
    "404": "No such object (or a path parameter that names none).",
    "409": "Conflicts with the current state (duplicate, published version, labels exist...).",
    "413": "The body is larger than this endpoint accepts.",
}
PAGING_PARAMETERS = [
    {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": "The position of the page: the `next` or `previous` link's cursor.",
        "schema": {"type": "string"},
    },
    {
        "name": "page_size",
        "in": "query",
        "required": False,
        "description": "Results per page, 1 to 1000 (default 100).",
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
    },
]


def error_codes(method: str, operation: dict) -> list[str]:
    codes = ["400", "401", "403", "404"]
    if method != "get" or "409" in operation.get("responses", {}):
        codes.append("409")
    if "requestBody" in operation:
        codes.append("413")
    return codes


def add_errors_and_paging(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook (see SPECTACULAR_SETTINGS)."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_SCHEMA] = ERROR_COMPONENT
    error_content = {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}
    }
    schemas = result["components"]["schemas"]
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in error_codes(method, operation):
                declared = responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})
                declared.setdefault("content", error_content)
            if is_paged(responses.get("200"), schemas):
                names = {p.get("name") for p in operation.get("parameters", [])}
                operation.setdefault("parameters", []).extend(
                    p for p in PAGING_PARAMETERS if p["name"] not in names
                )
    return result


def is_paged(response: dict | None, schemas: dict) -> bool:
    """A 200 whose JSON body is `{next, previous, results}`."""
    schema = ((response or {}).get("content", {}).get("application/json", {})).get("schema", {})
    ref = schema.get("$ref", "")
    if ref:
        schema = schemas.get(ref.rsplit("/", 1)[-1], {})
    return {"next", "previous", "results"} <= set(schema.get("properties", {}))
