"""Review routes: the queue, decisions, a listing's evidence download."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from api.auth.enums import Scope
from api.auth.models import Principal
from api.dates import QueryMoment
from api.deps import EventsDep, LangDep, StoreDep, requires
from api.http import evidence_download, serialized
from api.pages import MAX_OFFSET
from api.review import service
from api.review.evidence import evidence_bytes
from api.review.models import DecisionIn, DecisionOut, PageRequest, QueueFilters, QueuePage, ReviewStatus
from kcnguard.evidence import open_evidence
from kcnguard.records.base import Slug

router = APIRouter(prefix="/v1", tags=["review"])

Reader = Annotated[Principal, Depends(requires(Scope.LISTINGS_READ))]
Decider = Annotated[Principal, Depends(requires(Scope.REVIEW_DECIDE))]
QUEUE_MAX_LIMIT = 100


@router.get(
    "/review/queue",
    response_model=QueuePage,
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "model": QueuePage}},
    summary="Flagged listings and received reports to review",
)
def review_queue(
    store: StoreDep,
    principal: Reader,
    lang: LangDep,
    brand_id: Annotated[Slug | None, Query()] = None,
    marketplace: Annotated[Slug | None, Query()] = None,
    seller_id: Annotated[str | None, Query(max_length=128)] = None,
    status: Annotated[ReviewStatus | None, Query(description="new, needs_info, confirmed or dismissed")] = None,
    scored_from: Annotated[QueryMoment | None, Query(description="Scored (or reported) at or after")] = None,
    scored_to: Annotated[QueryMoment | None, Query(description="Scored (or reported) at or before")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words that must all appear")] = None,
    source: Annotated[Literal["all", "crawl", "report"], Query()] = "all",
    limit: Annotated[int, Query(ge=1, le=QUEUE_MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> QueuePage:
    filters = QueueFilters(
        brand_id=brand_id,
        marketplace=marketplace,
        seller_id=seller_id,
        status=status,
        scored_from=scored_from,
        scored_to=scored_to,
        q=(q or "").strip() or None,
        source=source,
    )
    return serialized(service.queue(store, principal, filters, PageRequest(limit, offset), lang))  # type: ignore[return-value]


@router.post("/review/decisions", response_model=DecisionOut, summary="Confirm, dismiss or ask for more, one or many")
def decisions(body: DecisionIn, store: StoreDep, principal: Decider, events: EventsDep) -> DecisionOut:
    return service.decide(store, principal, body.keys, body.decision, body.note, events, body.versions)


@router.get(
    "/evidence/{digest}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The raw page, as fetched"}},
    summary="Download the raw page a listing was read from",
)
def evidence(
    request: Request,
    digest: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
    store: StoreDep,
    principal: Reader,
    listing: Annotated[str | None, Query(max_length=300, description="The listing it belongs to")] = None,
) -> Response:
    body = evidence_bytes(store, open_evidence(request.app.state.settings), principal, digest, listing)
    return evidence_download(body, digest)
