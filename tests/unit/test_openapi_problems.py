"""The OpenAPI declares the problem answers (401/403/404/409/428/429, 422) and the answers match it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.openapi_problems import ProblemDocument
from api.problems import PROBLEM_JSON
from tests.unit.test_api_support import Keys, auth

pytest_plugins = ["tests.unit.test_api_support"]

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _responses(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return spec["paths"][path][method]["responses"]


def _declared(spec: dict[str, Any], method: str, path: str) -> set[int]:
    return {
        int(status)
        for status, body in _responses(spec, method, path).items()
        if body.get("content", {}).get(PROBLEM_JSON, {}).get("schema") == PROBLEM_REF
    }


def test_routes_declare_the_problems_they_can_answer(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
        "detail_vi",
        "detail_en",
    ]
    assert {401, 403, 429} <= _declared(spec, "get", "/v1/partner/cases")
    assert {401, 403, 404, 409, 428, 429} <= _declared(spec, "post", "/v1/cases/{case_id}/refer")
    assert {401, 403, 404, 409, 429} <= _declared(spec, "delete", "/v1/keys/{key_id}")
    assert {401, 422, 429} <= _declared(spec, "post", "/v1/auth/login")
    assert 429 not in _declared(spec, "get", "/healthz")
    # Every 4xx the document names is a problem document.
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, body in operation["responses"].items():
                if status.startswith("4"):
                    assert body["content"][PROBLEM_JSON]["schema"] == PROBLEM_REF, (method, path, status)


def test_the_problems_answered_are_what_the_document_says(client: TestClient, keys: Keys) -> None:
    answers = [
        client.get("/v1/partner/cases"),
        client.get("/v1/partner/cases", headers=auth(keys.acme)),
        client.get("/v1/cases/nope", headers=auth(keys.inspector)),
        client.post("/v1/cases/nope/refer", json={"agencies": ["qltt"]}, headers=auth(keys.inspector)),
        client.post("/v1/auth/login", json={"username": "x"}),
    ]
    assert {a.status_code for a in answers} >= {401, 403, 404, 422}
    for answer in answers:
        assert answer.headers["content-type"].startswith(PROBLEM_JSON)
        ProblemDocument.model_validate(answer.json())
