"""Agency routes: the admin registers and edits; inspectors read (to refer cases)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from api.agencies import service
from api.agencies.models import Agency, AgencyIn, AgencyKind, AgencyPage
from api.auth.enums import Scope
from api.auth.models import Principal
from api.deps import StoreDep, requires
from api.pages import MAX_LIMIT, MAX_OFFSET
from kcnguard.records.base import Slug

router = APIRouter(prefix="/v1/agencies", tags=["agencies"])

Reader = Annotated[Principal, Depends(requires(Scope.AGENCIES_READ))]
Writer = Annotated[Principal, Depends(requires(Scope.AGENCIES_WRITE))]
SlugPath = Annotated[Slug, Path(description="The agency's slug")]


@router.get("", response_model=AgencyPage, summary="Partner agencies")
def list_agencies(
    store: StoreDep,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    kind: Annotated[AgencyKind | None, Query()] = None,
) -> AgencyPage:
    items, total = service.list_agencies(store, limit, offset, kind)
    return AgencyPage(items=items, total=total, limit=limit, offset=offset)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Agency, summary="Register an agency (admin)")
def create_agency(body: AgencyIn, store: StoreDep, principal: Writer) -> Agency:
    return service.register_agency(store, body, principal.actor)


@router.get("/{slug}", response_model=Agency, summary="One agency")
def get_agency(slug: SlugPath, store: StoreDep, _: Reader) -> Agency:
    found = service.get_agency(store, slug)
    if found is None:
        raise service.agency_not_found(slug)
    return found


@router.put("/{slug}", response_model=Agency, summary="Replace an agency's entry (admin)")
def replace_agency(slug: SlugPath, body: AgencyIn, store: StoreDep, principal: Writer) -> Agency:
    return service.replace_agency(store, slug, body, principal.actor)
