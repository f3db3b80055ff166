"""What the OpenAPI schema says beyond each view's own `extend_schema`: the error answers
every operation can give, in one `Error` shape, the cursor parameters of every paged list, that
request bodies take no field they do not name, and that a trimmed text field needs a character
that is not white space.

Generated clients (openapi-python-client, schemathesis' conformance checks) rely on it: an
answer whose status code the schema does not declare is a failure for them, and so is a request
the schema allows that the API refuses with a 400 (every rule a schema can state is stated)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

# White space as Python's str.strip() (and so DRF's trimming) sees it, spelled out: `\s`
# differs between regex dialects (U+0085 and U+001C-U+001F, say).
WHITE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
WS = f"[{WHITE}]"
# A string holding a character that is not white space: what a trimmed, non-blank CharField
# takes (an unanchored pattern: it matches anywhere in the string).
NOT_BLANK = f"[^{WHITE}]"
# A projection (`id,sources.uri,meta.x`): comma-separated paths of non-empty dot-separated
# segments, each path trimmed (empty ones are skipped) — versions.projection.parse_projection.
_PATH_END = f"[^.,{WHITE}]"
_PATH = f"{WS}*(?:{_PATH_END}(?:(?:[^.,]|\\.(?=[^.,]))*{_PATH_END})?)?{WS}*"
PROJECTION_PATTERN = f"^{_PATH}(?:,{_PATH})*$"
PROJECTION_ITEM_PATTERN = f"^{_PATH.replace(',', '')}$"


class LabelopsAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus: a request CharField that trims white space and may
    not be blank declares it (a pattern: a character that is not white space), as "  " is
    refused like ""; a list body
    declares its bounds (`many=True, min_length=…, max_length=…`); a PATCH body whose
    serializer says `whole_on_patch` is not partial (its required fields stay required)."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        result = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and trimmed_non_blank(field) and is_plain_string(result):
            result["pattern"] = NOT_BLANK
        return result

    def _unwrap_list_serializer(self, serializer, direction):
        schema = super()._unwrap_list_serializer(serializer, direction)
        if isinstance(schema, dict) and schema.get("type") == "array":
            for attribute, keyword in (("min_length", "minItems"), ("max_length", "maxItems")):
                if getattr(serializer, attribute, None) is not None:
                    schema[keyword] = getattr(serializer, attribute)
        return schema

    def _get_request_for_media_type(self, serializer, direction="request"):
        if self.method == "PATCH" and getattr(serializer, "whole_on_patch", False):
            self.method = "POST"  # read as a whole body, as the view does
            try:
                return super()._get_request_for_media_type(serializer, direction)
            finally:
                self.method = "PATCH"
        return super()._get_request_for_media_type(serializer, direction)


def trimmed_non_blank(field) -> bool:
    return (
        isinstance(field, serializers.CharField) and field.trim_whitespace and not field.allow_blank
    )


def is_plain_string(schema: dict) -> bool:
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    return "string" in types and not ({"pattern", "format", "enum"} & set(schema))


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

# User metadata (versions, frames, data rows): any JSON whose object keys, at any depth, hold
# neither `$` nor `.` (versions.frames.check_metadata_keys). Serializers point at it with
# METADATA_REF; one recursive schema (a value of any type: `items` and `propertyNames` /
# `additionalProperties` apply to arrays and objects).
METADATA_VALUE = "MetadataValue"
METADATA_KEY_PATTERN = r"^[^$.]*$"
METADATA_REF = {"$ref": f"#/components/schemas/{METADATA_VALUE}"}
METADATA_COMPONENTS: dict[str, Any] = {
    METADATA_VALUE: {
        "type": ["object", "array", "string", "number", "boolean", "null"],
        "description": "Any JSON value; object keys (at any depth) hold neither `$` nor `.`.",
        "items": METADATA_REF,
        "propertyNames": {"pattern": METADATA_KEY_PATTERN},
        "additionalProperties": METADATA_REF,
    },
}


def metadata_object(description: str = "", *, nullable: bool = False) -> dict:
    """The schema of a metadata object (keys without `$` or `.` at any depth)."""
    schema: dict[str, Any] = {
        "type": ["object", "null"] if nullable else "object",
        "propertyNames": {"pattern": METADATA_KEY_PATTERN},
        "additionalProperties": METADATA_REF,
    }
    if description:
        schema["description"] = description
    return schema


# Status → what it means; which operations can answer it is decided in `error_codes`.
ERROR_DESCRIPTIONS = {
    "400": (
        "Invalid input: a field error names the field, or `detail` says what is wrong (also "
        "a body in a media type the endpoint does not read)."
    ),
    "401": "No or invalid credentials (`Authorization: Token <key>` or a session).",
    "403": "Signed in, but the role does not allow this.",
    "404": (
        "No such object: a path parameter, or an id in the body or query (naming the field), "
        "that names none; a cursor that names no page."
    ),
    "409": "Conflicts with the current state (duplicate, published version, labels exist...).",
    "413": "The body is larger than this endpoint accepts.",
}
PAGING_PARAMETERS = [
    {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": (
            "The position of the page: the `next` or `previous` link's cursor (one that names "
            "no position is a 404 naming `cursor`)."
        ),
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


def input_components() -> dict[str, type]:
    """The request components of every `InputSerializer` (which refuses fields it does not
    name), as drf-spectacular names them (`FooSerializer` → `FooRequest`, `PatchedFooRequest`),
    with their serializer class."""
    from dashboard.api.serializers import InputSerializer

    components, todo = {}, [InputSerializer]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        base = cls.__name__.removesuffix("Serializer")
        components |= {f"{base}Request": cls, f"Patched{base}Request": cls}
    return components


def exactly_one_of(schema: dict, names: tuple[str, ...]) -> None:
    """`schema` takes exactly one of the two fields `names`, not null (InputSerializer.one_of):
    if the first is given, the second is null or left out, else the second is given. Said
    with if/then/else rather than a top-level `oneOf`, which generated clients read as a union
    of two models."""
    first, second = names

    def given(name: str) -> dict:
        return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}

    schema["if"] = given(first)
    schema["then"] = {"properties": {second: {"type": "null"}}}
    schema["else"] = given(second)


def required_when(schema: dict, field: str, value, names: tuple[str, ...]) -> None:
    """`schema` requires the text fields `names`, not blank, when `field` is `value`
    (InputSerializer.required_when; `if`/`then`, as `exactly_one_of`, which it excludes)."""
    schema["if"] = {"required": [field], "properties": {field: {"const": value}}}
    schema["then"] = {
        "required": list(names),
        "properties": {name: {"type": "string", "pattern": NOT_BLANK} for name in names},
    }


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
    result["components"]["schemas"].update(METADATA_COMPONENTS)
    error_content = {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}
    }
    schemas = result["components"]["schemas"]
    strict = input_components()
    for name, schema in schemas.items():
        if name in strict and schema.get("type") == "object":
            schema.setdefault("additionalProperties", False)
            if strict[name].one_of and not name.startswith("Patched"):
                exactly_one_of(schema, strict[name].one_of)
            if strict[name].required_when and not name.startswith("Patched"):
                required_when(schema, *strict[name].required_when)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in error_codes(method, operation):
                declared = responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})
                declared.setdefault("content", error_content)
            names = {p.get("name") for p in operation.get("parameters", [])}
            if is_paged(responses.get("200"), schemas) or PAGED & names:
                parameters = operation.setdefault("parameters", [])
                # Ours replace DRF's own (which has no bounds on the page size).
                parameters[:] = [p for p in parameters if p.get("name") not in PAGED]
                parameters.extend(PAGING_PARAMETERS)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            body_required(operation.get("requestBody"), schemas)
    tidy_nullable(result)
    return result


def body_required(body: dict | None, schemas: dict) -> None:
    """A body whose every media type has required fields (or exactly-one-of fields) must be
    sent: drf-spectacular leaves it optional when no field is required on its own."""
    if not body or body.get("required"):
        return
    needed = []
    for media in body.get("content", {}).values():
        schema = media.get("schema", {})
        ref = schema.get("$ref", "")
        if ref:
            schema = schemas.get(ref.rsplit("/", 1)[-1], {})
        needed.append(bool(schema.get("required") or schema.get("if")))
    if needed and all(needed):
        body["required"] = True


PAGED = {p["name"] for p in PAGING_PARAMETERS}


def tidy_nullable(node) -> None:
    """drf-spectacular's OpenAPI 3.1 nullables, made valid for null: `oneOf: [X, {type:
    null}]` with X any value (`{}`) is X, and a repeated `{type: null}` is kept once (a null
    matching two members of a `oneOf` matches none)."""
    if isinstance(node, list):
        for item in node:
            tidy_nullable(item)
        return
    if not isinstance(node, dict):
        return
    types = node.get("type")
    if isinstance(types, list):
        node["type"] = [t for i, t in enumerate(types) if t not in types[:i]]
    members = node.get("oneOf")
    if isinstance(members, list):
        unique = [m for i, m in enumerate(members) if m not in members[:i]]
        if {} in unique:
            del node["oneOf"]
        else:
            node["oneOf"] = unique
    for value in node.values():
        tidy_nullable(value)


def is_paged(response: dict | None, schemas: dict) -> bool:
    """A 200 whose JSON body is `{next, previous, results}`."""
    schema = ((response or {}).get("content", {}).get("application/json", {})).get("schema", {})
    ref = schema.get("$ref", "")
    if ref:
        schema = schemas.get(ref.rsplit("/", 1)[-1], {})
    return {"next", "previous", "results"} <= set(schema.get("properties", {}))
