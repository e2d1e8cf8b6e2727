"""Listing routes: flagged listings of a brand, and one listing with its history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.auth.enums import Scope
from api.auth.models import Principal
from api.deps import LangDep, StoreDep, requires
from api.listings import service
from api.listings.models import FlaggedPage
from api.pages import MAX_LIMIT, MAX_OFFSET
from api.review import service as review_service
from api.review.models import ReviewDetail
from kcnguard.records.base import Slug

router = APIRouter(prefix="/v1", tags=["listings"])

Reader = Annotated[Principal, Depends(requires(Scope.LISTINGS_READ))]


@router.get(
    "/brands/{brand_id}/flagged",
    response_model=FlaggedPage,
    summary="Flagged listings of a brand, highest score first, with the reasons",
)
def flagged(
    brand_id: Annotated[Slug, Path()],
    store: StoreDep,
    principal: Reader,
    lang: LangDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    q: Annotated[str | None, Query(max_length=200, description="Words that must all appear in the title")] = None,
) -> FlaggedPage:
    return service.flagged_for_brand(store, principal, brand_id, limit, offset, (q or "").strip() or None, lang)


@router.get(
    "/listings/{key}",
    response_model=ReviewDetail,
    summary="A stored listing: reasons, price and sold history, seller and their other listings, cases, evidence",
)
def get_listing(
    key: Annotated[str, Path(min_length=3, max_length=300, description="marketplace:listing_id")],
    store: StoreDep,
    principal: Reader,
    lang: LangDep,
) -> ReviewDetail:
    return review_service.listing_detail(store, principal, key, lang)
