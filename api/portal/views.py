"""Portal pages: sign in with an API key, then read flagged listings. HTML, escaped everywhere."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.auth.enums import Scope
from api.auth.models import Principal
from api.auth.service import MAX_KEY_LENGTH, authenticate, require_scope
from api.deps import get_keeper
from api.i18n import Lang, lang_param
from api.lifecycle import StoreKeeper
from api.portal.service import MAX_PAGE, PAGE_SIZE, flagged_view
from api.portal.texts import TEXTS, format_price
from api.problems import Problem
from kcnguard.errors import TransientError

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
COOKIE = "kcnguard_key"
COOKIE_MAX_AGE = 8 * 3600  # one working day, then sign in again

# Nothing on these pages runs script or loads from elsewhere; say so to the browser.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

router = APIRouter(prefix="/portal", tags=["portal"], include_in_schema=False)
LangDep = Annotated[Lang, Depends(lang_param)]


def _render(request: Request, name: str, lang: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    base = request.scope.get("root_path", "").rstrip("/")
    params = dict(request.query_params)
    other = "en" if lang == "vi" else "vi"
    params["lang"] = other
    html = templates.get_template(name).render(
        lang=lang,
        t=TEXTS[lang],
        base=base,
        static_url=f"{base}/portal/static/portal.css",
        other_lang=other,
        other_lang_query=urlencode(params),
        price=lambda value, currency: format_price(value, currency, lang, TEXTS[lang]["unknown"]),
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def _error(request: Request, lang: str, status: int, message: str, principal: Principal | None = None) -> HTMLResponse:
    return _render(request, "error.html", lang, status, status=status, message=message, principal=principal)


def _to_login(request: Request, lang: str) -> RedirectResponse:
    base = request.scope.get("root_path", "").rstrip("/")
    return RedirectResponse(f"{base}/portal/login?lang={lang}", status_code=303)


def _signed_in(request: Request, keeper: StoreKeeper) -> Principal | None:
    raw = request.cookies.get(COOKIE)
    if not raw or not keeper.ready.is_set():
        return None
    try:
        return authenticate(keeper.store, raw)
    except Problem:
        return None


@router.get("/", response_class=HTMLResponse)
def portal_home(request: Request, keeper: Annotated[StoreKeeper, Depends(get_keeper)], lang: LangDep) -> Response:
    if _signed_in(request, keeper) is None:
        return _to_login(request, lang)
    base = request.scope.get("root_path", "").rstrip("/")
    return RedirectResponse(f"{base}/portal/flagged?lang={lang}", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, lang: LangDep) -> HTMLResponse:
    return _render(request, "login.html", lang, principal=None, error=None)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    keeper: Annotated[StoreKeeper, Depends(get_keeper)],
    key: Annotated[str, Form(max_length=MAX_KEY_LENGTH)] = "",
    lang: Annotated[str, Form(max_length=10)] = "vi",
) -> Response:
    chosen: Lang = "en" if lang == "en" else "vi"
    t = TEXTS[chosen]
    if not keeper.ready.is_set():
        return _error(request, chosen, 503, t["unavailable"])
    key = key.strip()
    if not key:
        return _render(request, "login.html", chosen, 401, principal=None, error=t["no_key"])
    try:
        principal = authenticate(keeper.store, key)
    except Problem:
        return _render(request, "login.html", chosen, 401, principal=None, error=t["bad_key"])
    log.info("portal sign-in by %s", principal.actor)
    base = request.scope.get("root_path", "").rstrip("/")
    response = RedirectResponse(f"{base}/portal/flagged?lang={chosen}", status_code=303)
    response.set_cookie(
        COOKIE,
        key,
        max_age=COOKIE_MAX_AGE,
        path=f"{base}/portal",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request, lang: LangDep) -> Response:
    response = _to_login(request, lang)
    base = request.scope.get("root_path", "").rstrip("/")
    response.delete_cookie(COOKIE, path=f"{base}/portal", httponly=True, samesite="strict")
    return response


@router.get("/flagged", response_class=HTMLResponse)
def flagged_page(
    request: Request,
    keeper: Annotated[StoreKeeper, Depends(get_keeper)],
    lang: LangDep,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    q: Annotated[str, Query(max_length=200)] = "",
    brand: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    t = TEXTS[lang]
    if not keeper.ready.is_set():
        return _error(request, lang, 503, t["unavailable"])
    principal = _signed_in(request, keeper)
    if principal is None:
        return _to_login(request, lang)
    try:
        require_scope(principal, Scope.LISTINGS_READ)
        view = flagged_view(keeper.store, principal, lang, page, q.strip() or None, brand.strip() or None)
    except Problem as problem:
        message = {403: t["forbidden"], 404: t["not_found"]}.get(problem.status, problem.en)
        return _error(request, lang, problem.status, message, principal)
    except TransientError as exc:
        log.warning("portal flagged page for %s failed: store unavailable: %s", principal.actor, exc)
        return _error(request, lang, 503, t["unavailable"], principal)

    def query_for(number: int) -> str:
        return urlencode({"lang": lang, "q": q, "brand": brand, "page": number})

    has_next = page * PAGE_SIZE < view.page.total and page < MAX_PAGE
    return _render(
        request,
        "flagged.html",
        lang,
        principal=principal,
        page=view.page,
        brands=view.brands,
        brand_names=view.brand_names,
        brand=brand,
        q=q,
        page_number=page,
        prev_query=query_for(page - 1) if page > 1 else None,
        next_query=query_for(page + 1) if has_next else None,
    )
