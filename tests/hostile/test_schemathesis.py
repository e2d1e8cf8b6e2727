"""Schemathesis over the whole OpenAPI, once per role, against the app in-process on the seeded world.

Every operation gets a few generated requests (valid by the schema or breaking it, with a fixed
seed so CI repeats the same ones) from each of admin, inspector, an enterprise, a partner and an anonymous
caller. No answer may be a 5xx, and every documented answer to a valid request must match its
declared schema.
The bound is EXAMPLES per operation and role: about 70 operations × 5 roles stay well under a
minute on 2 cores.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.hostile.conftest import Hostile, world_copy
from tests.unit.test_api_matrix import Template

EXAMPLES = 8
FUZZED_ROLES = ("admin", "inspector", "acme", "qltt", "anon")
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzzed(hostile_template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A copy of the hostile world of its own: the fuzzer creates, changes and revokes things."""
    with world_copy(hostile_template, tmp_path_factory.mktemp("fuzzed") / "world") as (client, _):
        yield client


def _operations(schema: schemathesis.BaseSchema) -> list[schemathesis.APIOperation]:
    found = []
    for result in schema.get_all_operations():
        found.append(result.ok())
    return found


@pytest.mark.parametrize("role", FUZZED_ROLES)
def test_no_operation_answers_5xx_or_off_schema(fuzzed: TestClient, hostile: Hostile, role: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed.app)
    key = hostile.keys[role]
    headers = {"X-API-Key": key} if key else {}
    failures: list[str] = []
    operations = _operations(schema)
    assert len(operations) > 40, "the OpenAPI lost its operations"
    for operation in operations:
        if operation.path == "/v1/auth/logout":
            continue  # would end the key's session for the operations after it; covered by the role matrix

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy() | operation.as_strategy(GenerationMode.NEGATIVE))
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            # Input the schema forbids must be refused (4xx), never crash; only valid input's answers are typed.
            positive = case.meta is None or case.meta.generation.mode is GenerationMode.POSITIVE
            case.validate_response(response, checks=CHECKS if positive else [not_a_server_error])

        try:
            run()
        except Exception as exc:  # every operation's failure is gathered, then reported at once
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert not failures, f"{len(failures)} operations failed for {role}:\n\n" + "\n\n".join(failures)
