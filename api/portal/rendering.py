"""Rendering portal pages: the Jinja2 environment, security headers, navigation per role, and the
guard every page goes through (store ready, signed in, CSRF on POST, problems as error pages)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pydantic import ValidationError

from api.auth.enums import Role, Scope
from api.auth.models import Principal
from api.i18n import Lang
from api.lifecycle import StoreKeeper
from api.portal.charts import price_chart
from api.portal.session import Signed, csrf_matches, signed_in
from api.portal.texts import TEXTS, format_price
from api.problems import Problem
from kcnguard.errors import TransientError
from kcnguard.validation import problem_text

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"

# Nothing on these pages runs script or loads from elsewhere; say so to the browser.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # Nothing leaves for another site (a marketplace link carries no referrer), and the portal's own forms
    # carry their true Origin: under no-referrer a browser sends "Origin: null", which the CSRF check refuses.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

# Characters that change how text around them reads without being seen: bidi overrides and isolates
# ("Sữa\u202egnp.exe" shows as "Sữaexe.png"), zero-width spaces and joiners that split a word a search
# or an eye would match. Records drop the worst on the way in; whatever a page shows is marked visibly.
_INVISIBLE = re.compile(r"[\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _visible(value: Any) -> Any:
    """Every {{ value }} a template prints, with invisible format characters shown as their code point."""
    if isinstance(value, str) and not isinstance(value, Markup) and _INVISIBLE.search(value):
        return _INVISIBLE.sub(lambda m: f"[U+{ord(m[0]):04X}]", value)
    return value


templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=_visible,
)


@dataclass(frozen=True)
class NavItem:
    text: str  # a key of TEXTS
    path: str


# The Board's pages are engineer G's (api/portal/board_views.py); the nav only links to them.
_BOARD_DOCUMENTS = NavItem("nav_documents", "/portal/board/documents")
_BOARD_ANNOUNCEMENTS = NavItem("nav_announcements", "/portal/board/announcements")
_BOARD_DASHBOARD = NavItem("nav_dashboard", "/portal/board/dashboard")
_BOARD_MONTHLY = NavItem("nav_monthly", "/portal/board/monthly")

_STAFF_NAV = (
    NavItem("nav_queue", "/portal/queue"),
    NavItem("nav_cases", "/portal/cases"),
    NavItem("nav_brands", "/portal/brands"),
    NavItem("nav_report", "/portal/report"),
    _BOARD_DASHBOARD,
    _BOARD_MONTHLY,
    _BOARD_ANNOUNCEMENTS,
    _BOARD_DOCUMENTS,
)
NAV: dict[Role, tuple[NavItem, ...]] = {
    Role.ADMIN: _STAFF_NAV,
    Role.INSPECTOR: _STAFF_NAV,
    Role.ENTERPRISE: (
        NavItem("nav_my_brands", "/portal/brands"),
        NavItem("nav_my_listings", "/portal/queue"),
        NavItem("nav_report", "/portal/report"),
        _BOARD_ANNOUNCEMENTS,
        _BOARD_DOCUMENTS,
    ),
    Role.PARTNER: (NavItem("nav_partner_cases", "/portal/partner/cases"), _BOARD_DOCUMENTS),
}

# Where each role lands after signing in.
HOME: dict[Role, str] = {
    Role.ADMIN: "/portal/queue",
    Role.INSPECTOR: "/portal/queue",
    Role.ENTERPRISE: "/portal/brands",
    Role.PARTNER: "/portal/partner/cases",
}


def portal_lang(
    lang: Annotated[str, Query(max_length=10, description="vi (default) or en")] = "",
) -> Lang:
    """The portal's language: ?lang=en for English, else Vietnamese, whatever the browser's Accept-Language.

    The API negotiates with Accept-Language; the portal does not, because the Board's staff often
    run browsers set to English and the portal is Vietnamese first. The switch in the header keeps
    ?lang on every link.
    """
    return "en" if lang.strip().lower() == "en" else "vi"


LangDep = Annotated[Lang, Depends(portal_lang)]


def root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def render(
    request: Request,
    name: str,
    lang: str,
    signed: Signed | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    base = root(request)
    other = "en" if lang == "vi" else "vi"
    if request.method == "GET":
        params = dict(request.query_params)
        params["lang"] = other
        lang_switch = f"?{urlencode(params)}"
    else:
        # A page answering a POST (an error, a form to correct) has no address to reload in the other language.
        lang_switch = f"{base}/portal/?lang={other}"
    principal = signed.principal if signed else None
    html = templates.get_template(name).render(
        lang=lang,
        t=TEXTS[lang],
        base=base,
        static_url=f"{base}/portal/static/portal.css",
        other_lang=other,
        lang_switch=lang_switch,
        principal=principal,
        csrf=signed.csrf if signed else "",
        nav=NAV.get(principal.role, ()) if principal else (),
        current_path=request.url.path,
        price=lambda value, currency="VND": format_price(value, currency, lang, TEXTS[lang]["unknown"]),
        chart=lambda history: price_chart(history, lang),
        when=lambda at, with_time=True: local_time(at, lang, with_time),
        state_text=lambda state: TEXTS[lang].get(f"state_{state}", str(state)),
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


# Viet Nam keeps UTC+7 all year (no daylight saving), so a fixed offset is exact.
VIETNAM = timezone(timedelta(hours=7), "ICT")


def local_time(at: datetime | date | None, lang: str, with_time: bool = True) -> str:
    """A stored UTC time as the Board's staff read it: Viet Nam time, day first in Vietnamese."""
    if at is None:
        return "—"
    if not isinstance(at, datetime):
        return at.strftime("%d/%m/%Y" if lang == "vi" else "%Y-%m-%d")
    local = at.astimezone(VIETNAM)
    day = "%d/%m/%Y" if lang == "vi" else "%Y-%m-%d"
    return local.strftime(f"{day} %H:%M" if with_time else day)


def error_page(request: Request, lang: str, status: int, message: str, signed: Signed | None = None) -> HTMLResponse:
    return render(request, "error.html", lang, signed, status, status=status, message=message)


def problem_message(problem: Problem, lang: str) -> str:
    return problem.en if lang == "en" else problem.vi


def redirect(request: Request, path: str, **params: str) -> RedirectResponse:
    query = f"?{urlencode(params)}" if params else ""
    return RedirectResponse(f"{root(request)}{path}{query}", status_code=303)


def to_login(request: Request, lang: str, back: bool = False) -> RedirectResponse:
    """To the sign-in page; `back` asks it to return here afterwards (a link from an e-mail, an expired session)."""
    if back and request.method == "GET":
        here = request.url.path.removeprefix(root(request))
        query = request.url.query
        return redirect(request, "/portal/login", lang=lang, next=f"{here}?{query}" if query else here)
    return redirect(request, "/portal/login", lang=lang)


def guarded(
    request: Request,
    keeper: StoreKeeper,
    lang: str,
    page: Callable[[Signed], Response],
    csrf: str | None = None,
    scope: Scope | None = None,
) -> Response:
    """Run a page for a signed-in caller; POST pages pass the form's `csrf`, checked before anything else.

    Problems from the services become error pages in the caller's language with their status
    (404 for another tenant's object, exactly as for a missing one).
    """
    t = TEXTS[lang]
    if not keeper.ready.is_set():
        return error_page(request, lang, 503, t["unavailable"])
    signed = signed_in(request, keeper.store)
    if signed is None:
        return to_login(request, lang, back=True)
    if csrf is not None and not csrf_matches(signed, csrf, request):
        log.warning("portal POST %s by %s refused: bad CSRF token", request.url.path, signed.principal.actor)
        return error_page(request, lang, 403, t["csrf_failed"], signed)
    if scope is not None and not signed.principal.has(scope):
        return error_page(request, lang, 403, t["forbidden_page"], signed)
    try:
        return page(signed)
    except Problem as problem:
        return error_page(request, lang, problem.status, problem_message(problem, lang), signed)
    except ValidationError as exc:
        # A form value a service's model refused: say which field and why, as the API would.
        details = problem_text(exc, "-", 10)
        return error_page(request, lang, 422, f"{t['form_errors']} {details}", signed)
    except TransientError as exc:
        log.warning("portal %s for %s failed: store unavailable: %s", request.url.path, signed.principal.actor, exc)
        return error_page(request, lang, 503, t["unavailable"], signed)


def change_and_return(
    request: Request,
    keeper: StoreKeeper,
    lang: Lang,
    csrf: str,
    scope: Scope,
    change: Callable[[Signed], str],
) -> Response:
    """A form that changes one thing: `change` applies it for the signed-in caller (after the
    guard's CSRF and scope checks) and names the page to go back to, which then says "saved" once."""

    def page(signed: Signed) -> Response:
        return redirect(request, change(signed), lang=lang, notice="saved")

    return guarded(request, keeper, lang, page, csrf=csrf, scope=scope)


def principal_home(principal: Principal) -> str:
    return HOME.get(principal.role, "/portal/queue")


def safe_next(value: str, fallback: str) -> str:
    """A same-site portal path to go back to after a POST; anything else falls back (no open redirect)."""
    if value.startswith("/portal/") and not value.startswith("//") and "\\" not in value and len(value) < 1000:
        return value
    return fallback
