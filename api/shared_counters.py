"""Counters every API process shares through the store: token buckets for rate limits, failure windows for logins.

Each counter is one small document changed only by a versioned write (create-if-absent for a new one,
if_version for an existing one) and retried on conflict, so N processes (or threads) counting the same
key behave as one: no two of them can spend the same token or take the same login slot. Times are the
wall clock (time.time), the one clock the processes share.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from kcnguard.errors import ConflictError
from kcnguard.store import CREATE, Query, RecordTable, Store
from kcnguard.store.schema import Collection, Kind, searchable

COUNTERS = Collection("shared_counters", {"touched": searchable("touched", Kind.FLOAT)})

# A handful of writers on one key settle within a few rounds; a key that never settles is a broken store.
MAX_ROUNDS = 200

T = TypeVar("T")

# Threads of one process take turns per key here rather than racing on the store's write lock (where a
# loser sleeps and retries): the versioned write then only ever conflicts with another process.
_STRIPES = [threading.Lock() for _ in range(64)]


@dataclass(frozen=True)
class Counter:
    """A token bucket (tokens left at `at`) or a failure window (count since `since`); both fields kept."""

    key: str = ""
    tokens: float = 0.0
    at: float = 0.0
    count: int = 0
    since: float = 0.0
    touched: float = 0.0  # when last written: idle counters are swept (see sweep)


def _load(body: dict[str, Any]) -> Counter:
    return Counter(**{f: body[f] for f in _FIELDS if f in body})


def _dump(counter: Counter) -> dict[str, Any]:
    return dataclasses.asdict(counter)


_FIELDS = tuple(f.name for f in dataclasses.fields(Counter))


class SharedCounters:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.table: RecordTable[Counter] = store.table(COUNTERS, Counter, None, load=_load, dump=_dump)
        self.clock = clock

    def _update(self, key: str, change: Callable[[Counter | None, float], tuple[Counter | None, T]]) -> T:
        """Apply `change` (current counter or None, now) -> (new counter or None to leave it, answer) atomically."""
        with _STRIPES[hash(key) % len(_STRIPES)]:
            return self._update_unlocked(key, change)

    def _update_unlocked(self, key: str, change: Callable[[Counter | None, float], tuple[Counter | None, T]]) -> T:
        for _ in range(MAX_ROUNDS):
            now = self.clock()
            found = self.table.get_versioned(key)
            new, answer = change(found.record if found else None, now)
            if new is None:
                return answer
            new = dataclasses.replace(new, key=key, touched=now)
            try:
                self.table.put(new, found.version if found else CREATE, doc_id=key)
            except ConflictError:
                continue
            return answer
        raise ConflictError(f"shared counter {key!r} kept changing under {MAX_ROUNDS} writers")

    def take_token(self, key: str, rate_per_second: float, burst: float) -> float:
        """Spend one token of `key`'s bucket: 0.0 when allowed, else the seconds until one is back."""
        return self.take_tokens(key, rate_per_second, burst, 1)[1]

    def take_tokens(
        self, key: str, rate_per_second: float, burst: float, want: int, give_back: int = 0
    ) -> tuple[int, float]:
        """Take up to `want` whole tokens of `key`'s bucket, after putting back `give_back` unspent ones:
        (how many were taken, 0.0) when at least one was, else (0, the seconds until one is back)."""

        def change(current: Counter | None, now: float) -> tuple[Counter | None, tuple[int, float]]:
            refilled = burst if current is None else current.tokens + max(0.0, now - current.at) * rate_per_second
            tokens = min(burst, refilled + give_back)
            if tokens >= 1.0:
                taken = min(want, int(tokens))
                return Counter(tokens=tokens - taken, at=now), (taken, 0.0)
            return None, (0, (1.0 - tokens) / rate_per_second)

        return self._update(key, change)

    def reserve(self, key: str, limit: int, window_seconds: float) -> float:
        """Take one of `limit` slots in `key`'s window (which starts at its first slot): 0.0 when taken, else
        the seconds until the window ends. Slots are kept (a failure) or given back with `release`."""

        def change(current: Counter | None, now: float) -> tuple[Counter | None, float]:
            if current is None or now - current.since >= window_seconds or current.count <= 0:
                return Counter(count=1, since=now), 0.0
            if current.count >= limit:
                return None, current.since + window_seconds - now
            return Counter(count=current.count + 1, since=current.since), 0.0

        return self._update(key, change)

    def count(self, key: str, window_seconds: float) -> int:
        """The slots held in `key`'s current window."""
        current = self.table.get(key)
        if current is None or self.clock() - current.since >= window_seconds:
            return 0
        return current.count

    def release(self, key: str) -> None:
        """Give one slot back (an attempt that turned out well)."""

        def change(current: Counter | None, now: float) -> tuple[Counter | None, None]:
            if current is None or current.count <= 0:
                return None, None
            return Counter(count=current.count - 1, since=current.since), None

        self._update(key, change)

    def clear(self, key: str) -> None:
        self.table.delete(key)

    def sweep(self, idle_seconds: float, batch: int = 500) -> int:
        """Forget counters not written for `idle_seconds` (a bucket that idle is full again, a window over),
        so one-off addresses do not pile up; how many went."""
        cutoff = self.clock() - idle_seconds
        idle = self.table.search(Query(ranges={"touched": (None, cutoff)}, size=batch, count=False)).items
        return sum(self.table.delete(c.key) for c in idle if c.key)
