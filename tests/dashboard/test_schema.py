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
