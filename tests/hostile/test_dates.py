"""Out-of-range dates and times in every query parameter that takes one: a 422 problem, never a 5xx.

The parameters are found in the OpenAPI document (format date or date-time, plus the month and the
partner's updated_after, which are strings), so a new date filter is attacked without being listed.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.hostile.conftest import Hostile, portal_client

DAYS = ["0001-01-01", "9999-12-31", "0999-12-31", "0000-01-01", "10000-01-01"]
MOMENTS = [
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "0500-06-01T12:00:00Z",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
    "2026-01-01T00:00:00+99:00",
    "1000-01-01T00:00:00+01:00",  # 999-12-31 in UTC
]
MONTHS = ["0001-01", "0999-12", "9999-12", "0000-01"]
# Who may call each kind of route: a refusal by role would hide the date check.
CALLERS = {"partner": "qltt", "board": "admin", "cases": "admin"}


def _date_params(world: Hostile) -> list[tuple[str, str, list[str]]]:
    found = []
    for path, ops in world.client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        get = ops.get("get")
        if not get or "{" in path:
            continue
        for param in get.get("parameters", []):
            if param["in"] != "query":
                continue
            schema: dict[str, Any] = param.get("schema", {})
            formats = {schema.get("format"), *(s.get("format") for s in schema.get("anyOf", []))}
            if "date" in formats:
                found.append((path, param["name"], DAYS))
            elif "date-time" in formats or param["name"] == "updated_after":
                found.append((path, param["name"], DAYS + MOMENTS))
            elif param["name"] == "month":
                found.append((path, param["name"], MONTHS))
    return found


def _caller(path: str) -> str:
    return next((role for part, role in CALLERS.items() if f"/{part}/" in path), "admin")


def test_every_date_parameter_refuses_out_of_range_values(hostile: Hostile) -> None:
    params = _date_params(hostile)
    names = {(p, n) for p, n, _ in params}
    # The ones the issue found answering 500; the discovery must keep finding them.
    assert {
        ("/v1/review/queue", "scored_from"),
        ("/v1/board/dashboard", "until"),
        ("/v1/board/reports/monthly", "month"),
        ("/v1/cases/export.csv", "since"),
        ("/v1/partner/cases", "updated_after"),
    } <= names, names
    wrong = []
    for path, name, values in params:
        roles = [_caller(path), "acme"] if path == "/v1/review/queue" else [_caller(path)]
        for role in roles:
            for value in values:
                extra = {"month": "2026-01"} if name != "month" and "monthly" in path else {}
                answer = hostile.client.get(path, params={name: value, **extra}, headers=hostile.headers(role))
                if answer.status_code != 422 or not answer.headers["content-type"].startswith("application/problem"):
                    wrong.append(f"{role} {path}?{name}={value}: {answer.status_code} {answer.text[:120]}")
    assert not wrong, "\n".join(wrong)


def test_a_good_date_still_answers(hostile: Hostile) -> None:
    for path, params in (
        ("/v1/board/dashboard", {"since": "1000-01-01", "until": "1001-12-31"}),
        ("/v1/review/queue", {"scored_from": "1000-01-01T00:00:00Z", "scored_to": "9998-12-31T00:00:00+05:00"}),
        ("/v1/cases/export.csv", {"since": "9998-01-01", "until": "9998-12-31"}),
    ):
        answer = hostile.client.get(path, params=params, headers=hostile.headers("admin"))
        assert answer.status_code == 200, (path, answer.text[:300])


@pytest.mark.parametrize(
    ("path", "name", "values"),
    [
        ("/portal/queue", "date_from", DAYS),
        ("/portal/queue", "date_to", DAYS),
        ("/portal/board/dashboard", "since", DAYS),
        ("/portal/board/dashboard", "until", DAYS),
        ("/portal/board/monthly", "month", MONTHS),
        ("/portal/board/monthly.xlsx", "month", MONTHS),
    ],
)
def test_portal_date_filters_refuse_out_of_range_values(
    hostile: Hostile, path: str, name: str, values: list[str]
) -> None:
    browser = portal_client(hostile, "admin")
    for value in values:
        answer = browser.get(path, params={name: value})
        assert answer.status_code == 422, (path, name, value, answer.status_code, answer.text[:200])
