"""Brand routes: validate, call the service, return."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from api.auth.enums import Scope
from api.auth.models import Principal
from api.brands import service
from api.brands.models import BrandIn, BrandPage, VerifyIn
from api.deps import StoreDep, requires
from api.pages import MAX_LIMIT, MAX_OFFSET
from kcnguard.records import Brand
from kcnguard.records.base import Slug

router = APIRouter(prefix="/v1/brands", tags=["brands"])

Reader = Annotated[Principal, Depends(requires(Scope.BRANDS_READ))]
Writer = Annotated[Principal, Depends(requires(Scope.BRANDS_WRITE))]
Verifier = Annotated[Principal, Depends(requires(Scope.REVIEW_DECIDE))]
BrandIdPath = Annotated[Slug, Path(description="The brand's identifier")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Brand, summary="Register a brand")
def create_brand(brand_in: BrandIn, store: StoreDep, principal: Writer) -> Brand:  # type: ignore[valid-type]
    return service.create_brand(store, principal, brand_in)


@router.get("", response_model=BrandPage, summary="Brands this key may see")
def list_brands(
    store: StoreDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    owner_id: Annotated[Slug | None, Query(description="Only this owner's brands")] = None,
) -> BrandPage:
    page = service.list_brands(store, principal, limit, offset, owner_id)
    return BrandPage(items=page.items, total=page.total, limit=limit, offset=offset)


@router.get("/{brand_id}", response_model=Brand, summary="One brand")
def get_brand(brand_id: BrandIdPath, store: StoreDep, principal: Reader) -> Brand:
    return service.get_visible_brand(store, principal, brand_id)


@router.post(
    "/{brand_id}/verify",
    response_model=Brand,
    summary="Record the Board's check of the trademark rights claimed for a brand",
    description="`verified` starts crawling and scoring it; `rejected` stops them and frees its trademark numbers.",
)
def verify_brand(brand_id: BrandIdPath, body: VerifyIn, store: StoreDep, principal: Verifier) -> Brand:
    return service.verify_brand(store, principal, brand_id, body.outcome, body.note)


@router.put("/{brand_id}", response_model=Brand, summary="Replace a brand's registration")
def replace_brand(brand_id: BrandIdPath, brand_in: BrandIn, store: StoreDep, principal: Writer) -> Brand:  # type: ignore[valid-type]
    return service.replace_brand(store, principal, brand_id, brand_in)
