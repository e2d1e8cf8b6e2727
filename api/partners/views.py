"""Partner routes under /v1/partner: pull referred cases, read one, acknowledge, report actions."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response

from api.dates import checked_moment
from api.deps import EventsDep, StoreDep
from api.http import etag, evidence_download, serialized, version_from
from api.partners import service
from api.partners.models import (
    MAX_PARTNER_LIMIT,
    AcknowledgeIn,
    ActionIn,
    PartnerCaseDetail,
    PartnerCasePage,
    PartnerCaseSummary,
)
from api.problems import Problem
from api.ratelimit import PartnerDep
from kcnguard.errors import NotFound
from kcnguard.records import PartnerAction
from kcnguard.store.checked import date_value

router = APIRouter(prefix="/v1/partner", tags=["partner"])

CaseIdPath = Annotated[str, Path(min_length=1, max_length=128)]
IfMatch = Annotated[str | None, Header(description="The case version as read (its ETag)", max_length=120)]


def cursor_secret(request: Request) -> str:
    # From KCNGUARD_SECRET_KEY (not the admin key, which an administrator may rotate or revoke).
    settings = request.app.state.settings
    return hashlib.sha256(f"{settings.namespace}|cursor|{request.app.state.secret_key}".encode()).hexdigest()


def _valid_time(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        checked_moment(datetime.fromisoformat(value))
        date_value(value)  # checked here; the service reads it as the store compares dates
        return value
    except ValueError:
        raise Problem(
            422,
            "bad-updated-after",
            f"updated_after '{value[:40]}' không phải thời điểm ISO 8601 từ năm 1000 (ví dụ 2026-03-01T00:00:00Z).",
            f"updated_after '{value[:40]}' is not an ISO 8601 time from the year 1000 on (e.g. 2026-03-01T00:00:00Z).",
        ) from None


@router.get(
    "/cases",
    response_model=PartnerCasePage,
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "model": PartnerCasePage}},
    summary="Cases referred to this agency, oldest change first, with an opaque cursor",
    description=(
        "Start with `updated_after` (or nothing), then pass each answer's `next_cursor` as `cursor`. "
        "A case that changes while you page moves to the end and comes again; none is skipped. "
        "Keep the last cursor and call again later to get only what changed since."
    ),
)
def pull_cases(
    request: Request,
    store: StoreDep,
    principal: PartnerDep,
    updated_after: Annotated[
        str | None,
        Query(max_length=40, description="ISO 8601; only cases changed after it", examples=["2026-03-01T00:00:00Z"]),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=600, description="next_cursor from the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PARTNER_LIMIT)] = 50,
) -> PartnerCasePage:
    page = service.pull(store, principal, cursor_secret(request), limit, _valid_time(updated_after), cursor)
    return serialized(page)  # type: ignore[return-value]


@router.get("/cases/{case_id}", response_model=PartnerCaseDetail, summary="A referred case with evidence and IP data")
def get_case(case_id: CaseIdPath, store: StoreDep, principal: PartnerDep, response: Response) -> PartnerCaseDetail:
    found = service.detail(store, principal, case_id)
    response.headers["ETag"] = etag(found.version)
    return found


@router.get(
    "/cases/{case_id}/evidence/{digest}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The raw page, as captured"}},
    summary="Download a raw page captured for a referred case",
)
def evidence(
    request: Request,
    case_id: CaseIdPath,
    digest: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
    store: StoreDep,
    principal: PartnerDep,
) -> Response:
    missing = Problem(
        404,
        "evidence-not-found",
        f"Hồ sơ này không có bằng chứng '{digest[:16]}…'.",
        f"This case has no evidence '{digest[:16]}…'.",
    )
    try:
        body = service.case_evidence(store, request.app.state.settings, principal, case_id, digest)
    except NotFound:
        raise missing from None
    return evidence_download(body, digest)


@router.post("/cases/{case_id}/acknowledge", response_model=PartnerCaseSummary, summary="Confirm receipt of a case")
def acknowledge(
    case_id: CaseIdPath,
    store: StoreDep,
    principal: PartnerDep,
    events: EventsDep,
    response: Response,
    body: AcknowledgeIn | None = None,
    if_match: IfMatch = None,
) -> PartnerCaseSummary:
    saved = service.acknowledge(
        store, principal, case_id, version_from(if_match, body.version if body else None), events
    )
    response.headers["ETag"] = etag(saved.version)
    return saved


@router.post(
    "/cases/{case_id}/actions",
    response_model=PartnerCaseSummary,
    summary="Report an action taken: takedown requested, removed, penalty",
)
def report_action(
    case_id: CaseIdPath,
    body: ActionIn,
    store: StoreDep,
    principal: PartnerDep,
    events: EventsDep,
    response: Response,
    if_match: IfMatch = None,
) -> PartnerCaseSummary:
    action = PartnerAction(
        kind=body.kind,
        document_number=body.document_number,
        document_date=body.document_date,
        note=body.note,
        actor=principal.actor,
    )
    saved = service.report_action(store, principal, case_id, action, version_from(if_match, body.version), events)
    response.headers["ETag"] = etag(saved.version)
    return saved
