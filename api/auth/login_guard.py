"""Logging in with a brake on guessing: failed logins are counted per username and per address.

Both the API's POST /v1/auth/login and the portal's sign-in form go through `guarded_login`, so a
password cannot be guessed faster through one than the other. The counters live on the app's
state (per process, in memory: see api/throttle.py).
"""

from __future__ import annotations

from typing import Any

from api.auth import sessions
from api.problems import Problem
from api.throttle import SlidingWindow
from kcnguard.store import Store

# Failed logins: 10 per username and 30 per address in 15 minutes, then 429 until the window frees up.
LOGIN_FAILURES_PER_USER = 10
LOGIN_FAILURES_PER_ADDRESS = 30
LOGIN_WINDOW_SECONDS = 900.0


def _throttles(app_state: Any) -> tuple[SlidingWindow, SlidingWindow]:
    if not hasattr(app_state, "login_throttles"):
        app_state.login_throttles = (
            SlidingWindow(LOGIN_FAILURES_PER_USER, 10**9, LOGIN_WINDOW_SECONDS),
            SlidingWindow(LOGIN_FAILURES_PER_ADDRESS, 10**9, LOGIN_WINDOW_SECONDS),
        )
    return app_state.login_throttles


def guarded_login(app_state: Any, store: Store, username: str, password: str, address: str) -> str:
    """sessions.login, refused with 429 while this username or address has failed too often."""
    by_user, by_address = _throttles(app_state)
    wait = max(by_user.blocked(username), by_address.blocked(address))
    if wait:
        raise Problem(
            429,
            "too-many-logins",
            "Đăng nhập sai quá nhiều lần; hãy thử lại sau ít phút.",
            "Too many failed logins; try again in a few minutes.",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    try:
        return sessions.login(store, username, password)
    except Problem:
        by_user.allow(username)
        by_address.allow(address)
        raise
