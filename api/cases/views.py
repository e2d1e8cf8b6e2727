"""Case routes: list, read (ETag = version), transition and refer (If-Match or `version` required)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from api.auth.enums import Scope
from api.auth.models import Principal
from api.cases import service
from api.cases.models import CaseOut, CasePage, ReferIn, TransitionIn
from api.deps import EventsDep, StoreDep, requires
from api.http import etag, version_from
from api.pages import MAX_LIMIT, MAX_OFFSET
from api.review.service import case_out
from kcnguard.records import CaseState
from kcnguard.records.base import Slug
from kcnguard.store import Versioned

router = APIRouter(prefix="/v1/cases", tags=["cases"])

Reader = Annotated[Principal, Depends(requires(Scope.CASES_READ))]
Writer = Annotated[Principal, Depends(requires(Scope.CASES_WRITE))]
CaseIdPath = Annotated[str, Path(min_length=1, max_length=128)]
IfMatch = Annotated[str | None, Header(description="The case's ETag as read", max_length=120)]

# What a change can answer besides 200, as problem documents (RFC 9457).
CHANGE_RESPONSES: dict[int | str, dict[str, str]] = {
    404: {"description": "No such case, or not this caller's"},
    409: {"description": "The case changed since that version: reload (the problem carries current_version)"},
    422: {"description": "That move is not allowed from the case's state, or an agency is not registered"},
    428: {"description": "No version given: send If-Match or a `version` field"},
}


def _answer(response: Response, saved: Versioned) -> CaseOut:  # type: ignore[type-arg]
    response.headers["ETag"] = etag(saved.version)
    return case_out(saved)


@router.get("", response_model=CasePage, summary="Cases this caller may see, newest change first")
def list_cases(
    store: StoreDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    state: Annotated[CaseState | None, Query()] = None,
    brand_id: Annotated[Slug | None, Query()] = None,
    agency: Annotated[Slug | None, Query()] = None,
) -> CasePage:
    items, total = service.list_cases(store, principal, limit, offset, state, brand_id, agency)
    return CasePage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{case_id}", response_model=CaseOut, summary="One case; its ETag is the version to send back")
def get_case(case_id: CaseIdPath, store: StoreDep, principal: Reader, response: Response) -> CaseOut:
    return _answer(response, service.get_visible_case(store, principal, case_id))


@router.post(
    "/{case_id}/transition",
    response_model=CaseOut,
    responses=CHANGE_RESPONSES,
    summary="Move a case (409 if it changed meanwhile)",
)
def transition(
    case_id: CaseIdPath,
    body: TransitionIn,
    store: StoreDep,
    principal: Writer,
    events: EventsDep,
    response: Response,
    if_match: IfMatch = None,
) -> CaseOut:
    version = version_from(if_match, body.version)
    saved = service.transition(store, principal, case_id, body.to, body.note, version, events)
    return _answer(response, saved)


@router.post(
    "/{case_id}/refer", response_model=CaseOut, responses=CHANGE_RESPONSES, summary="Refer a case to partner agencies"
)
def refer(
    case_id: CaseIdPath,
    body: ReferIn,
    store: StoreDep,
    principal: Writer,
    events: EventsDep,
    response: Response,
    if_match: IfMatch = None,
) -> CaseOut:
    version = version_from(if_match, body.version)
    saved = service.refer(store, principal, case_id, body.agencies, body.note, version, events)
    return _answer(response, saved)
