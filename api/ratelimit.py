"""Rate limits on partner keys: a token bucket per key, in this process.

Each key may burst up to `burst` requests, then gets `rate_per_minute` spread evenly; a request
over it is refused with a 429 problem whose Retry-After says when a token is back. The buckets
live in this process's memory: with one API process (the deployment here) that is exact; with N
processes behind a balancer each grants the rate, so divide the setting by N (README says so).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from api.auth.enums import Scope
from api.auth.models import Principal
from api.auth.service import key_from_headers
from api.deps import requires
from api.problems import Problem

# Keys not seen for this long are forgotten, so the table cannot grow without bound.
IDLE_SECONDS = 3600.0


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    def __init__(self, rate_per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._swept = clock()

    def take(self, key: str) -> float:
        """Spend one token of `key`'s bucket: 0.0 when allowed, else the seconds until one is back."""
        now = self.clock()
        with self._lock:
            if now - self._swept > IDLE_SECONDS:
                self._sweep(now)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def _sweep(self, now: float) -> None:
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.at < IDLE_SECONDS}
        self._swept = now


def too_many(wait: float, rate_per_minute: float) -> Problem:
    seconds = max(1, math.ceil(wait))
    return Problem(
        429,
        "rate-limited",
        f"Khóa này đã vượt giới hạn {rate_per_minute:g} yêu cầu/phút; thử lại sau {seconds} giây.",
        f"This key is over its limit of {rate_per_minute:g} requests per minute; retry in {seconds} s.",
        headers={"Retry-After": str(seconds)},
        retry_after=seconds,
    )


def buckets_of(request: Request) -> TokenBuckets:
    limiter = getattr(request.app.state, "partner_buckets", None)
    if limiter is None:
        settings = request.app.state.settings
        limiter = TokenBuckets(settings.partner_rate_per_minute, settings.partner_rate_burst)
        request.app.state.partner_buckets = limiter
    return limiter


async def limited_partner(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Scope.PARTNER_CASES))],
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    """The partner caller, once its key's bucket has a token (else 429 with Retry-After)."""
    raw = key_from_headers(x_api_key, authorization) or principal.name
    limiter = buckets_of(request)
    wait = limiter.take(hashlib.sha256(raw.encode()).hexdigest())
    if wait > 0:
        raise too_many(wait, limiter.rate * 60)
    return principal


PartnerDep = Annotated[Principal, Depends(limited_partner)]
