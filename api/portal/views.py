"""Portal entry: sign in (username and password, or an API key for machines), sign out, home.

The pages themselves live beside this module, one router per kind of user; this router
includes them so api/main.py registers the portal once.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth.login_guard import guarded_login
from api.auth.service import MAX_KEY_LENGTH, authenticate
from api.auth.sessions import SESSION_PREFIX, logout, principal_for_session
from api.i18n import Lang
from api.portal.case_views import router as case_router
from api.portal.enterprise_views import router as enterprise_router
from api.portal.params import CsrfField, KeeperDep, LangField, form_lang
from api.portal.partner_views import router as partner_router
from api.portal.rendering import (
    STATIC_DIR,
    LangDep,
    error_page,
    principal_home,
    problem_message,
    redirect,
    render,
    safe_next,
    to_login,
)
from api.portal.review_views import router as review_router
from api.portal.session import (
    COOKIE,
    clear_sign_in_cookie,
    csrf_matches,
    login_csrf,
    login_csrf_matches,
    set_login_csrf_cookie,
    set_sign_in_cookie,
    signed_in,
)
from api.portal.texts import TEXTS
from api.problems import Problem

__all__ = ["COOKIE", "STATIC_DIR", "router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/portal", tags=["portal"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def portal_home(request: Request, keeper: KeeperDep, lang: LangDep) -> Response:
    signed = signed_in(request, keeper.store) if keeper.ready.is_set() else None
    if signed is None:
        return to_login(request, lang)
    return redirect(request, principal_home(signed.principal), lang=lang)


def _login_form(
    request: Request, lang: Lang, status: int = 200, error: str | None = None, next_path: str = ""
) -> HTMLResponse:
    token, fresh = login_csrf(request)
    back = safe_next(next_path, "")
    response = render(request, "login.html", lang, None, status, error=error, login_csrf=token, next=back)
    if fresh:
        set_login_csrf_cookie(request, response, token)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, lang: LangDep, next: Annotated[str, Query(max_length=1000)] = "") -> HTMLResponse:
    return _login_form(request, lang, next_path=next)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    keeper: KeeperDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    key: Annotated[str, Form(max_length=MAX_KEY_LENGTH)] = "",
    csrf: CsrfField = "",
    lang: LangField = "vi",
    next: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    chosen = form_lang(lang)
    t = TEXTS[chosen]
    if not keeper.ready.is_set():
        return error_page(request, chosen, 503, t["unavailable"])
    if not login_csrf_matches(request, csrf):
        # Login CSRF: another site must not sign a victim in to the attacker's account.
        return _login_form(request, chosen, 403, t["csrf_failed"], next)
    key, username = key.strip(), username.strip().lower()
    try:
        if key:
            principal = authenticate(keeper.store, key)
            token = key
        elif username and password:
            # The same brake on guessing as POST /v1/auth/login: shared by every API process.
            address = request.client.host if request.client else "-"
            token = guarded_login(keeper.store, username, password, address)
            principal = principal_for_session(keeper.store, token)
        else:
            return _login_form(request, chosen, 401, t["no_login"], next)
    except Problem as problem:
        if problem.status == 429:
            response = _login_form(request, chosen, 429, problem_message(problem, chosen), next)
            response.headers.update(problem.headers)
            return response
        return _login_form(request, chosen, 401, t["bad_key"] if key else t["bad_login"], next)
    log.info("portal sign-in by %s (%s)", principal.actor, "key" if key else "password")
    back = safe_next(next, "")
    response = redirect(request, back) if back else redirect(request, principal_home(principal), lang=chosen)
    set_sign_in_cookie(request, response, token)
    return response


@router.post("/logout")
def logout_submit(
    request: Request,
    keeper: KeeperDep,
    csrf: CsrfField = "",
    lang: LangField = "vi",
) -> Response:
    chosen = form_lang(lang)
    signed = signed_in(request, keeper.store) if keeper.ready.is_set() else None
    if signed is not None:
        if not csrf_matches(signed, csrf, request):
            return error_page(request, chosen, 403, TEXTS[chosen]["csrf_failed"], signed)
        if signed.token.startswith(SESSION_PREFIX):
            logout(keeper.store, signed.token)
        log.info("portal sign-out by %s", signed.principal.actor)
    response = to_login(request, chosen)
    clear_sign_in_cookie(request, response)
    return response


@router.get("/flagged")
def flagged_page(request: Request, lang: LangDep) -> Response:
    """The first portal's address for flagged listings: now the review queue, with the same filters."""
    params = {k: v for k, v in request.query_params.items() if k in ("brand", "q", "page")}
    return redirect(request, "/portal/queue", lang=lang, **params)


router.include_router(review_router)
router.include_router(case_router)
router.include_router(enterprise_router)
router.include_router(partner_router)
