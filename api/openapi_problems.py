"""The OpenAPI document declares the problem answers each route can give, with the Problem schema.

Declared from what the route is, so a new route is covered without anyone remembering to: every route is
rate limited (429); one that takes a key or session can answer 401 (none or a bad one) and 403 (a key
without the scope, or a role the route refuses); one with an id in its path 404; one that writes 409 (a
concurrent change, an id taken); one that takes If-Match or already documents 428 can answer 428. 422 is
rewritten to the problem document it really is (FastAPI documents its own validation body).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

from api.problems import PROBLEM_JSON, TITLES, TYPE_PREFIX

WRITES = {"post", "put", "patch", "delete"}
# Routes anyone may call and that write nothing of anyone's: no 409 to declare.
NO_CONFLICT = {("post", "/v1/auth/login"), ("post", "/v1/auth/logout")}
UNCOUNTED = ("/healthz", "/readyz")
# Answers a route gives that its shape does not show.
OWN = {("post", "/v1/auth/login"): {401}}


class ProblemDocument(BaseModel):
    """An RFC 9457 problem; routes add fields of their own (current_version, retry_after, errors...)."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description=f"A URN naming the kind of problem, {TYPE_PREFIX}<kind>")
    title: str = Field(description="The HTTP status's English name")
    status: int
    detail: str = Field(description="What went wrong and what to do, in the caller's language (vi by default)")
    detail_vi: str
    detail_en: str
    instance: str | None = Field(default=None, description="The request's path")


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    params = {(p.get("in"), p.get("name", "").lower()) for p in operation.get("parameters", [])}
    authenticated = ("header", "x-api-key") in params or ("header", "authorization") in params
    found = set(OWN.get((method, path), set())) | (set() if path.startswith(UNCOUNTED) else {429})
    if authenticated:
        found |= {401, 403}
    if "{" in path:
        found.add(404)
    if method in WRITES and (method, path) not in NO_CONFLICT and authenticated:
        found.add(409)
    if ("header", "if-match") in params or "428" in operation.get("responses", {}):
        found.add(428)
    if "422" in operation.get("responses", {}):
        found.add(422)
    return found


def _declare(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = ProblemDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(_statuses(path, method, operation)):
                entry = responses.setdefault(str(status), {"description": TITLES.get(status, "Error")})
                entry["content"] = content
    # Nothing answers FastAPI's own validation body any more.
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _declare(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                    tags=app.openapi_tags,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
