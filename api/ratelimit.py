"""Rate limits on every route a caller can reach, per principal, shared by every API process.

Each principal has a token bucket kept in the store (api/shared_counters.py): a partner agency (all its
keys and sessions together), another key's owner or a signed-in person, else the client address. Keying
by principal, not by credential, means a new session or key of the same owner gets no fresh burst; the
store makes N API processes grant what one would. Over the limit the answer is a 429 problem with
Retry-After. Probes and static files are not counted: they cost nothing and a balancer's health checks
come from one address.

Finding the principal behind a credential costs a store read; the answer is kept for a minute in this
process (a revoked key is still refused by the route itself, only its bucket name is remembered).

A store write per request would put every request of one principal in single file behind the store's
write lock. So a process takes tokens from the shared bucket a few at a time (a lease: at most a tenth of
the burst and a second's worth of the rate, one token for tight limits) and spends them locally; what a
lease has left after a second goes back into the bucket with the next write. Tokens are only ever taken
from the shared bucket, never made, so N processes still grant no more than one would; at worst a
principal waits a little longer while another process holds part of its budget.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
from dataclasses import dataclass
from typing import Annotated

import anyio.to_thread
from fastapi import Depends
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as AsgiScope

from api.auth.enums import Role, Scope
from api.auth.models import Principal
from api.auth.service import authenticate, key_from_headers
from api.deps import requires
from api.portal.session import COOKIE
from api.problems import Problem, problem_response, too_many_requests
from api.shared_counters import SharedCounters
from kcnguard.settings import Settings
from kcnguard.store import Store

UNCOUNTED_PREFIXES = ("/healthz", "/readyz", "/portal/static/", "/docs-static/")
PRINCIPAL_CACHE_SECONDS = 60.0
PRINCIPAL_CACHE_SIZE = 10_000
# Each process forgets counters idle this long (longer than any login window), this often.
SWEEP_IDLE_SECONDS = 2 * 3600.0
SWEEP_EVERY_SECONDS = 600.0
LEASE_SECONDS = 1.0
LEASE_SHARE_OF_BURST = 0.1


@dataclass(frozen=True)
class Limit:
    bucket: str
    rate_per_minute: float
    burst: int


def too_many(wait: float, rate_per_minute: float) -> Problem:
    return too_many_requests(
        "rate-limited",
        wait,
        f"Bạn đã vượt giới hạn {rate_per_minute:g} yêu cầu/phút; thử lại sau {{seconds}} giây.",
        f"You are over the limit of {rate_per_minute:g} requests per minute; retry in {{seconds}} s.",
    )


class Limits:
    """Whose bucket a request spends, and that bucket's rate."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._known: dict[str, tuple[float, Limit | None]] = {}  # None: not a credential of ours
        self._lock = threading.Lock()
        self._swept = time.monotonic()
        # bucket -> (tokens leased and not spent yet, when the lease ends)
        self._leases: dict[str, tuple[int, float]] = {}
        self._lease_locks = [threading.Lock() for _ in range(64)]

    def anonymous(self, address: str) -> Limit:
        s = self.settings
        return Limit(_bucket("address", client_network(address)), s.anonymous_rate_per_minute, s.anonymous_rate_burst)

    def for_credential(self, store: Store, credential: str, address: str) -> Limit:
        digest = hashlib.sha256(credential.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            cached = self._known.get(digest)
        if cached is not None and now - cached[0] < PRINCIPAL_CACHE_SECONDS:
            return cached[1] or self.anonymous(address)
        limit = self._limit_of(store, credential, digest)
        with self._lock:
            if len(self._known) >= PRINCIPAL_CACHE_SIZE:
                self._known.clear()
            self._known[digest] = (now, limit)
        # Not a credential of ours: the caller is anonymous (the route says 401 if it needs one).
        return limit or self.anonymous(address)

    def _limit_of(self, store: Store, credential: str, digest: str) -> Limit | None:
        try:
            principal = authenticate(store, credential)
        except Problem:
            return None
        s = self.settings
        if principal.role is Role.PARTNER:
            return Limit(_bucket("agency", principal.owner_id or ""), s.partner_rate_per_minute, s.partner_rate_burst)
        if principal.via == "session":
            return Limit(_bucket("user", principal.name), s.user_rate_per_minute, s.user_rate_burst)
        if principal.owner_id:
            return Limit(_bucket("owner", principal.owner_id), s.user_rate_per_minute, s.user_rate_burst)
        return Limit(_bucket("key", digest), s.user_rate_per_minute, s.user_rate_burst)

    def spend_leased(self, credential: str | None, address: str) -> Limit | None:
        """Spend a token this process already holds, touching nothing that could wait (no store, no held
        lock): the limit spent from, or None when the caller must go the long way (`take`, on a thread)."""
        if credential:
            with self._lock:
                cached = self._known.get(hashlib.sha256(credential.encode()).hexdigest())
            if cached is None or time.monotonic() - cached[0] >= PRINCIPAL_CACHE_SECONDS:
                return None
            limit = cached[1] or self.anonymous(address)
        else:
            limit = self.anonymous(address)
        lock = self._lease_locks[hash(limit.bucket) % len(self._lease_locks)]
        if not lock.acquire(blocking=False):
            return None
        try:
            left, ends = self._leases.get(limit.bucket, (0, 0.0))
            if left > 0 and time.monotonic() < ends:
                self._leases[limit.bucket] = (left - 1, ends)
                return limit
            return None
        finally:
            lock.release()

    def take(self, store: Store, credential: str | None, address: str) -> tuple[float, Limit]:
        limit = self.for_credential(store, credential, address) if credential else self.anonymous(address)
        counters = SharedCounters(store)
        wait = self._spend(counters, limit)
        self._sweep_now_and_then(counters)
        return wait, limit

    def _spend(self, counters: SharedCounters, limit: Limit) -> float:
        rate = limit.rate_per_minute / 60.0
        lease = max(1, min(int(limit.burst * LEASE_SHARE_OF_BURST), int(rate * LEASE_SECONDS)))
        with self._lease_locks[hash(limit.bucket) % len(self._lease_locks)]:
            now = time.monotonic()
            left, ends = self._leases.pop(limit.bucket, (0, 0.0))
            if left > 0 and now < ends:
                self._leases[limit.bucket] = (left - 1, ends)
                return 0.0
            taken, wait = counters.take_tokens(limit.bucket, rate, limit.burst, lease, give_back=left)
            if taken == 0:
                return wait
            if taken > 1:
                if len(self._leases) >= PRINCIPAL_CACHE_SIZE:
                    self._leases.clear()  # unspent tokens of idle leases are lost: stricter, never looser
                self._leases[limit.bucket] = (taken - 1, now + LEASE_SECONDS)
            return 0.0

    def _sweep_now_and_then(self, counters: SharedCounters) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._swept < SWEEP_EVERY_SECONDS:
                return
            self._swept = now
        counters.sweep(SWEEP_IDLE_SECONDS)


def _bucket(kind: str, who: str) -> str:
    # Hashed: usernames, addresses and networks hold characters a document id should not.
    return f"rate-{kind}-" + hashlib.sha256(who.encode()).hexdigest()[:40]


def client_network(address: str) -> str:
    """The unit an anonymous caller is counted by: its IPv4 address, or its IPv6 /64 (one subscriber's
    network hands out any number of addresses inside it)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)


def _credential(request: Request) -> str | None:
    headers = request.headers
    found = key_from_headers(headers.get("x-api-key"), headers.get("authorization"))
    return found or request.cookies.get(COOKIE) or None


class RateLimit:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limits = Limits(settings)

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(UNCOUNTED_PREFIXES):
            await self.app(scope, receive, send)
            return
        keeper = scope["app"].state.keeper
        if not keeper.ready.is_set():  # the routes answer 503 until the store is there
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        address = request.client.host if request.client else "unknown"
        credential = _credential(request)
        # Most requests spend a token their process leased already; only the others hop to a thread.
        if self.limits.spend_leased(credential, address) is not None:
            await self.app(scope, receive, send)
            return
        wait, limit = await anyio.to_thread.run_sync(self.limits.take, keeper.store, credential, address)
        if wait > 0:
            await problem_response(request, too_many(wait, limit.rate_per_minute))(scope, receive, send)
            return
        await self.app(scope, receive, send)


# The partner routes' caller; its requests are counted by RateLimit with every other route's.
PartnerDep = Annotated[Principal, Depends(requires(Scope.PARTNER_CASES))]
