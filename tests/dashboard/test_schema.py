"""The OpenAPI schema tells the truth about errors and paging, and every error body carries a
stable machine-readable `code` beside its message."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from versions.services import dataset_create


@pytest.fixture
def schema(db):
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_operation_declares_its_error_answers_with_one_error_shape(schema):
    assert schema["components"]["schemas"]["Error"]["required"] == ["code"]
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        for code in ("400", "401", "403", "404"):
            content = responses[code]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/Error"}, (method, path, code)
        if method != "get":
            assert "409" in responses, (method, path)
        if "requestBody" in operation:
            assert "413" in responses, (method, path)


def test_every_paged_list_declares_its_cursor_and_page_size(schema):
    paged = []
    for path, method, operation in operations(schema):
        ok = operation["responses"].get("200", {}).get("content", {}).get("application/json")
        ref = (ok or {}).get("schema", {}).get("$ref", "")
        if ref.rsplit("/", 1)[-1].startswith("Paginated"):
            names = {p["name"] for p in operation.get("parameters", [])}
            assert {"cursor", "page_size"} <= names, (method, path)
            paged.append(path)
    assert "/api/v1/datasets/" in paged
    assert "/api/v1/datasets/{dataset_id}/versions/" in paged


def test_error_bodies_carry_a_code(manager_api, viewer_api):
    assert APIClient().get("/api/v1/datasets/").json()["code"] == "not_authenticated"
    forbidden = viewer_api.post("/api/v1/datasets/", {"name": "x"}, format="json")
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "permission_denied"
    missing = manager_api.get("/api/v1/datasets/nope/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    invalid = manager_api.post("/api/v1/datasets/", {"name": ""}, format="json")
    assert invalid.status_code == 400
    assert invalid.json()["code"] == "invalid" and "name" in invalid.json()
    dataset_create(name="taken")
    conflict = manager_api.post(
        "/api/v1/datasets/", {"name": "taken", "raise_if_exists": True}, format="json"
    )
    assert conflict.status_code == 409 and conflict.json()["code"] == "conflict"
    broken = manager_api.post("/api/v1/datasets/", "{", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["code"] == "parse_error"


def test_input_bodies_declare_that_they_take_no_other_field(schema):
    components = schema["components"]["schemas"]
    for name in ("DatasetCreateRequest", "BatchInputRequest", "PatchedProjectInputRequest"):
        assert components[name]["additionalProperties"] is False, name


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "raise_if_exists": 0}, "raise_if_exists"),
        ({"name": "x", "dataset_project": 0}, "dataset_project"),
        ({"name": 5}, "name"),
        ({"name": "x", "tags": "a"}, "tags"),
    ],
)
def test_json_values_of_another_type_are_refused_not_coerced(manager_api, body, field):
    response = manager_api.post("/api/v1/datasets/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()


@pytest.mark.parametrize("value", ["", "yes", "2"])
def test_boolean_query_parameters_are_true_or_false(manager_api, value):
    dataset, _ = dataset_create(name="d")
    response = manager_api.get(f"/api/v1/datasets/{dataset.pk}/versions/?only_draft={value}")
    assert response.status_code == 400 and "only_draft" in response.json()


def test_paged_lists_bound_their_page_size(schema):
    for path, method, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "page_size":
                bounds = {k: parameter["schema"].get(k) for k in ("minimum", "maximum")}
                assert bounds == {"minimum": 1, "maximum": 1000}, (method, path)


def test_the_schema_states_rules_beyond_types(schema):
    components = schema["components"]["schemas"]
    batch = components["BatchInputRequest"]
    # Exactly one of global_keys / data_rows (if one is given, the other is null or absent).
    assert batch["if"]["required"] == ["global_keys"]
    assert batch["else"]["required"] == ["data_rows"]
    # A trimmed name needs a character that is not white space.
    assert batch["properties"]["name"]["pattern"].startswith("[^")
    # Metadata keys hold neither $ nor . (at any depth).
    metadata = components["VersionCreateRequest"]["properties"]["metadata"]
    assert metadata["propertyNames"] == {"pattern": "^[^$.]*$"}
    assert components["MetadataValue"]["propertyNames"] == {"pattern": "^[^$.]*$"}


@pytest.mark.parametrize(
    "body, status",
    [
        ({"name": "  "}, 400),  # blank once trimmed, as the pattern says
        ({"name": "\u0085"}, 400),  # white space to Python, whatever a regex dialect says
        ({"name": "p", "reservation_seconds": 60.0}, 201),  # 60.0 is the JSON integer 60
        ({"name": "p", "reservation_seconds": 60.5}, 400),
    ],
)
def test_json_integers_and_blank_names_as_the_schema_says(manager_api, body, status):
    response = manager_api.post("/api/v1/projects/", body, format="json")
    assert response.status_code == status, response.json()
