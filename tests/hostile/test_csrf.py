"""Every portal POST refuses a form without its session's CSRF token, with another session's token,
or sent from another site (Origin), and accepts the right one.

The routes are read from the app, so a new form cannot ship unguarded. A form sent with only the
token passes the CSRF wall and then meets the route's own checks (422, 404, a redirect): what is
asserted is which side of the wall it lands on.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.portal.texts import TEXTS
from tests.hostile.conftest import Hostile, portal_client
from tests.unit.portal_support import csrf_of
from tests.unit.test_api_matrix import app_routes

REFUSED = TEXTS["en"]["csrf_failed"]
PARAMS = {"case_id": "case_a", "brand_id": "brand_a"}


def portal_posts(world: Hostile) -> list[str]:
    """The path template of every POST route under /portal, however deep its router is included."""
    found = {p for m, p in app_routes(world.client.app) if m == "POST" and p.startswith("/portal")}  # type: ignore[arg-type]
    return sorted(found)


def _concrete(world: Hostile, path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: world.ids[PARAMS[m[1]]], path)


def _token(browser: TestClient) -> str:
    return csrf_of(browser.get("/portal/queue?lang=en").text)


def _post(browser: TestClient, path: str, form: dict[str, Any], **headers: str) -> tuple[int, bool]:
    answer = browser.post(path, data={"lang": "en", **form}, headers=headers, follow_redirects=False)
    return answer.status_code, REFUSED in answer.text


def test_the_portal_has_the_forms_we_expect(hostile: Hostile) -> None:
    posts = portal_posts(hostile)
    assert {"/portal/login", "/portal/logout", "/portal/decide", "/portal/brands/new"} <= set(posts), posts
    assert all(re.fullmatch(r"[^{}]*(\{(case_id|brand_id)(:\w+)?\}[^{}]*)*", p) for p in posts), (
        f"a portal POST with a path parameter this suite cannot fill; add it to PARAMS: {posts}"
    )


@pytest.mark.parametrize("path", ["/portal/decide", "/portal/logout"])
def test_the_wall_is_before_the_work(hostile: Hostile, path: str) -> None:
    """The sanity check of this suite: a refused form changes nothing, a signed one does."""
    browser = portal_client(hostile, "admin")
    assert _post(browser, path, {}) == (403, True)
    assert browser.get("/portal/queue", follow_redirects=False).status_code == 200  # still signed in


def test_every_portal_post_checks_the_token_and_the_origin(hostile: Hostile) -> None:
    mine, other = portal_client(hostile, "admin"), portal_client(hostile, "inspector")
    token, foreign_token = _token(mine), _token(other)
    assert token != foreign_token
    wrong = []
    for template in portal_posts(hostile):
        if template == "/portal/login":
            continue
        path = _concrete(hostile, template)
        for label, form, headers in (
            ("no token", {}, {}),
            ("empty token", {"csrf": ""}, {}),
            ("another session's token", {"csrf": foreign_token}, {}),
            ("a foreign Origin", {"csrf": token}, {"origin": "https://evil.example"}),
            ("a null Origin", {"csrf": token}, {"origin": "null"}),
        ):
            status, refused = _post(mine, path, form, **headers)
            if status != 403 or not refused:
                wrong.append(f"{template} with {label}: {status}, refused={refused}")
        if template == "/portal/logout":
            continue  # accepted, it would end the session the other forms need; checked alone below
        status, refused = _post(mine, path, {"csrf": token}, origin="http://testserver")
        if refused or status >= 500:
            wrong.append(f"{template} with the right token: {status}, refused={refused}")
    assert not wrong, "\n".join(wrong)
    status, refused = _post(mine, "/portal/logout", {"csrf": token})
    assert status == 303 and not refused
    assert mine.get("/portal/queue", follow_redirects=False).status_code != 200  # signed out


def test_the_login_form_has_its_own_token_and_origin_check(hostile: Hostile) -> None:
    browser = TestClient(hostile.client.app, raise_server_exceptions=False)
    token = csrf_of(browser.get("/portal/login?lang=en").text)
    key = hostile.keys["admin"]
    stranger = TestClient(hostile.client.app, raise_server_exceptions=False)
    stranger_token = csrf_of(stranger.get("/portal/login?lang=en").text)
    assert _post(browser, "/portal/login", {"key": key}) == (403, True)
    assert _post(browser, "/portal/login", {"key": key, "csrf": stranger_token}) == (403, True)
    assert _post(browser, "/portal/login", {"key": key, "csrf": token}, origin="https://evil.example") == (403, True)
    assert _post(browser, "/portal/login", {"key": key, "csrf": token}) == (303, False)


def test_pages_let_the_browser_send_their_origin(hostile: Hostile) -> None:
    """Under "no-referrer" a browser sends "Origin: null" with the portal's own forms, which the check refuses."""
    for path in ("/portal/login", "/portal/queue"):
        answer = portal_client(hostile, "admin").get(path)
        assert answer.headers["referrer-policy"] == "same-origin", path
