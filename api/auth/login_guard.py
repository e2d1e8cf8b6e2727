"""Logging in with a brake on guessing that cannot be turned into a lock-out.

Both the API's POST /v1/auth/login and the portal's sign-in form go through `guarded_login`, so a
password cannot be guessed faster through one than the other. Each attempt first takes a slot, atomically
and shared by every API process (api/shared_counters.py), and only then is the password checked, so N
concurrent attempts against a limit of L make at most L checks:

- per (username, client address): 10 failures in 15 minutes, then that address waits for that username;
- per client address, whatever the username: 30 failures in 15 minutes;
- per username from any address, more slowly: past 50 failures in an hour, only addresses that have not
  failed for that username may still try. One address (or a few) hammering an account therefore never
  locks its owner out: a right password from an address that has not failed still gets in.

A success clears its (username, address) window and gives the address's slot back.
"""

from __future__ import annotations

import hashlib

from api.auth import sessions
from api.problems import Problem, too_many_requests
from api.shared_counters import SharedCounters
from kcnguard.store import Store

LOGIN_FAILURES_PER_USER_AND_ADDRESS = 10
LOGIN_FAILURES_PER_ADDRESS = 30
LOGIN_WINDOW_SECONDS = 900.0
LOGIN_FAILURES_PER_USER = 50
LOGIN_USER_WINDOW_SECONDS = 3600.0
# The user-wide count only ever grows within its window: it brakes, never admits.
_UNBOUNDED = 1 << 62


def _key(kind: str, *parts: str) -> str:
    return f"login-{kind}-" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:40]


def too_many_logins(wait: float) -> Problem:
    return too_many_requests(
        "too-many-logins",
        wait,
        "Đăng nhập sai quá nhiều lần; hãy thử lại sau {seconds} giây.",
        "Too many failed logins; try again in {seconds} s.",
    )


def guarded_login(store: Store, username: str, password: str, address: str) -> str:
    """sessions.login, refused with 429 (and no password check) while this attempt is over a limit."""
    counters = SharedCounters(store)
    who = username.strip().lower()[:64]
    pair, by_address, by_user = _key("pair", who, address), _key("address", address), _key("user", who)
    if counters.count(by_user, LOGIN_USER_WINDOW_SECONDS) >= LOGIN_FAILURES_PER_USER and counters.count(
        pair, LOGIN_WINDOW_SECONDS
    ):
        raise too_many_logins(LOGIN_WINDOW_SECONDS)
    wait = counters.reserve(pair, LOGIN_FAILURES_PER_USER_AND_ADDRESS, LOGIN_WINDOW_SECONDS)
    if wait:
        raise too_many_logins(wait)
    wait = counters.reserve(by_address, LOGIN_FAILURES_PER_ADDRESS, LOGIN_WINDOW_SECONDS)
    if wait:
        counters.release(pair)
        raise too_many_logins(wait)
    try:
        token = sessions.login(store, username, password)
    except Problem:
        counters.reserve(by_user, _UNBOUNDED, LOGIN_USER_WINDOW_SECONDS)
        raise
    except BaseException:
        # Not a wrong password (the store failed): the slots were not earned.
        counters.release(pair)
        counters.release(by_address)
        raise
    counters.clear(pair)
    counters.release(by_address)
    return token
