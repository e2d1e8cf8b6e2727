"""Who is signed in to the portal, and the CSRF tokens that every POST form must carry.

The portal's cookie holds either a person's session token (kcs_..., from api/auth/sessions.py)
or, for a machine or a quick look, an API key (kcn_...). Either way the CSRF token is an HMAC
of that cookie value: a page can show it in a hidden field, another site cannot compute it
(the cookie is HttpOnly and never leaves this origin), and nothing extra is stored.
Before sign-in there is no cookie to derive from, so the login form uses a double-submit
cookie instead (a random value in a cookie and in the form, which must match).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response

from api.auth.models import Principal
from api.auth.service import authenticate
from api.auth.sessions import SESSION_PREFIX, SESSION_TTL, principal_for_session
from api.problems import Problem
from kcnguard.store import Store

COOKIE = "kcnguard_portal"
LOGIN_CSRF_COOKIE = "kcnguard_login_csrf"
COOKIE_MAX_AGE = int(SESSION_TTL.total_seconds())
MAX_COOKIE = 512
_CSRF_CONTEXT = b"kcnguard-portal-csrf-v1"


@dataclass(frozen=True)
class Signed:
    principal: Principal
    token: str  # the cookie's value: a session token or an API key

    @property
    def csrf(self) -> str:
        return csrf_for(self.token)


def csrf_for(token: str) -> str:
    return hmac.new(token.encode(), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


def csrf_matches(signed: Signed, sent: str, request: Request | None = None) -> bool:
    return (request is None or same_origin(request)) and bool(sent) and hmac.compare_digest(signed.csrf, sent)


def signed_in(request: Request, store: Store) -> Signed | None:
    raw = request.cookies.get(COOKIE, "")
    if not raw or len(raw) > MAX_COOKIE:
        return None
    try:
        check = principal_for_session if raw.startswith(SESSION_PREFIX) else authenticate
        principal = check(store, raw)
    except Problem:
        return None
    return Signed(principal, raw)


def cookie_path(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/") + "/portal"


def set_sign_in_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_MAX_AGE,
        path=cookie_path(request),
        httponly=True,
        # Lax, so a link from an e-mail to a listing opens signed in; POSTs still need the CSRF token.
        samesite="lax",
        secure=_is_https(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=cookie_path(request))


def clear_sign_in_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(COOKIE, path=cookie_path(request), httponly=True, samesite="lax")


def login_csrf(request: Request) -> tuple[str, bool]:
    """The login form's double-submit value, and whether it is new (so the cookie must be set)."""
    current = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if 20 <= len(current) <= 100:
        return current, False
    return secrets.token_urlsafe(24), True


def set_login_csrf_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        value,
        max_age=3600,
        path=cookie_path(request),
        httponly=True,
        samesite="strict",
        secure=_is_https(request),
    )


def login_csrf_matches(request: Request, sent: str) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return same_origin(request) and bool(cookie) and bool(sent) and hmac.compare_digest(cookie, sent)


def same_origin(request: Request) -> bool:
    """False when the browser says the form was sent from another site (a second wall behind the token).

    Browsers send Origin on every cross-site POST; a request without one (an old browser, a script)
    rests on the token alone. Host is compared, not scheme: behind a TLS proxy the app may see http.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    _, _, host = origin.partition("://")
    return bool(host) and host.casefold() == request.headers.get("host", "").casefold()


def _is_https(request: Request) -> bool:
    # Behind a TLS-terminating proxy uvicorn sets the scheme from X-Forwarded-Proto (--proxy-headers).
    return request.url.scheme == "https"
