"""Webhook routes (admin): register a partner agency's URL (the secret is shown once), list, remove, deliveries."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from api.auth.enums import Scope
from api.auth.models import Principal
from api.deps import StoreDep, requires
from api.webhooks import service
from api.webhooks.models import DeliveryPage, WebhookCreated, WebhookIn, WebhookOut, WebhookPage
from kcnguard.records.base import Slug

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

Admin = Annotated[Principal, Depends(requires(Scope.WEBHOOKS_ADMIN))]
AgencyPath = Annotated[Slug, Path(description="The agency's slug")]
MAX_PAGE = 100


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    summary="Set an agency's webhook URL; answers the signing secret once",
)
def register(body: WebhookIn, request: Request, store: StoreDep, principal: Admin) -> WebhookCreated:
    return service.register(store, request.app.state.settings, body, principal.actor)


@router.get("", response_model=WebhookPage, summary="Registered webhooks (secrets never shown)")
def list_webhooks(
    store: StoreDep,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000 - MAX_PAGE)] = 0,
) -> WebhookPage:
    items, total = service.list_webhooks(store, limit, offset)
    return WebhookPage(items=items, total=total)


@router.get("/{agency}", response_model=WebhookOut, summary="One agency's webhook")
def get_webhook(agency: AgencyPath, store: StoreDep, _: Admin) -> WebhookOut:
    return service.get(store, agency)


@router.delete("/{agency}", status_code=status.HTTP_204_NO_CONTENT, summary="Stop delivering to an agency")
def remove(agency: AgencyPath, store: StoreDep, principal: Admin) -> Response:
    service.remove(store, agency, principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{agency}/deliveries", response_model=DeliveryPage, summary="Delivery attempts to an agency, newest first")
def deliveries(
    agency: AgencyPath,
    store: StoreDep,
    _: Admin,
    state: Annotated[Literal["pending", "delivered", "dead"] | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000 - MAX_PAGE)] = 0,
) -> DeliveryPage:
    items, total = service.deliveries(store, agency, state, limit, offset)
    return DeliveryPage(items=items, total=total, limit=limit, offset=offset)
