"""The API application: `create_app(settings)` wires routers, error handling, limits and the store."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api import docs, openapi_problems, problems
from api.agencies.views import router as agencies_router
from api.audit.views import router as audit_router
from api.auth.views import router as auth_router
from api.board.views import exports_router as board_exports_router
from api.board.views import router as board_router
from api.brands.views import router as brands_router
from api.cases.views import router as cases_router
from api.collections import COLLECTIONS as API_COLLECTIONS
from api.enterprises.views import router as enterprises_router
from api.health.views import router as health_router
from api.lifecycle import StoreKeeper
from api.limits import MAX_BODY_BYTES, BodySizeLimit
from api.listings.views import router as listings_router
from api.partners.views import router as partners_router
from api.portal.board_views import router as portal_board_router
from api.portal.views import STATIC_DIR
from api.portal.views import router as portal_router
from api.ratelimit import RateLimit
from api.reports.views import router as reports_router
from api.review.views import router as review_router
from api.secure_headers import SecureHeaders
from api.webhooks.views import router as webhooks_router
from kcnguard.bus import Bus, open_bus
from kcnguard.cases.outbox import CaseEvents
from kcnguard.secret_keys import require_strong, secret_key
from kcnguard.settings import Settings, get_settings
from kcnguard.store import Store, open_store
from kcnguard.topics import CASE_EVENTS

log = logging.getLogger(__name__)

DESCRIPTION = """\
KCN Guard: các tin đăng nghi là hàng giả của nhãn hiệu doanh nghiệp trong các khu công nghiệp.
Counterfeit-listing monitoring for the brands of a province's industrial-zone enterprises.

Xác thực / Authentication: `X-API-Key: <key>` or `Authorization: Bearer <key>`.
Lỗi / Errors: RFC 9457 problem details (`application/problem+json`), Vietnamese by default,
English with `?lang=en` or `Accept-Language: en`.
"""


def _case_events_bus(settings: Settings) -> Bus:
    bus = open_bus(settings.bus_url, namespace=settings.namespace, data_dir=settings.data_dir)
    bus.ensure_topics([CASE_EVENTS])
    return bus


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """The API; opens the store the settings name unless given one (which the caller then owns)."""
    settings = settings or get_settings()
    # Refused before anything opens: a guessable admin key or secret key is worse than no API.
    if settings.admin_key:
        require_strong(settings.admin_key, "KCNGUARD_ADMIN_KEY")
    sealing_key = secret_key(settings)
    owns_store = store is None
    if store is None:
        store = open_store(settings.store_url, namespace=settings.namespace, data_dir=settings.data_dir)
    # The keeper's set-up creates them with the rest; until then the store is not ready.
    store.know(API_COLLECTIONS)
    events = CaseEvents(store, lambda: _case_events_bus(settings), retry_max_seconds=settings.retry_max_seconds)
    keeper = StoreKeeper(
        store, admin_key=settings.admin_key, retry_max_seconds=settings.retry_max_seconds, events=events
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        keeper.start()
        log.info(
            "API up: store %s, namespace %s, ready=%s", settings.store_url, settings.namespace, keeper.ready.is_set()
        )
        try:
            yield
        finally:
            keeper.close()
            if owns_store:
                keeper.store.close()

    app = FastAPI(
        title="KCN Guard API",
        version="1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's own docs pages pull scripts from a CDN; api/docs.py serves vendored ones instead.
        docs_url=None,
        redoc_url=None,
    )
    app.state.keeper = keeper
    app.state.settings = settings
    app.state.secret_key = sealing_key
    problems.install(app)
    docs.install(app)
    openapi_problems.install(app)
    # Outermost last: every answer, a 413 or 429 included, gets the transport headers.
    app.add_middleware(RateLimit, settings=settings)
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(SecureHeaders)

    app.include_router(health_router)
    app.include_router(brands_router)
    app.include_router(listings_router)
    app.include_router(auth_router)
    app.include_router(audit_router)
    app.include_router(review_router)
    app.include_router(enterprises_router)
    app.include_router(agencies_router)
    # Before the cases router, whose /v1/cases/{case_id} would otherwise take /v1/cases/export.csv.
    app.include_router(board_exports_router)
    app.include_router(cases_router)
    app.include_router(partners_router)
    app.include_router(webhooks_router)
    app.include_router(board_router)
    app.include_router(reports_router)
    app.include_router(portal_router)
    app.include_router(portal_board_router)
    app.mount("/portal/static", StaticFiles(directory=STATIC_DIR), name="portal-static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/portal/", status_code=307)

    return app
