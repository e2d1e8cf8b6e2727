"""A sliding-window limit kept in memory: a spam brake on anonymous reports, per address and overall.

In memory on purpose: it protects one API process from a flood; several processes each keep
their own window (the overall cap then multiplies by the process count, which is acceptable
for a spam brake). Behind a reverse proxy every client shares the proxy's address, so the
per-address limit should then be raised or the proxy made to limit instead.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class SlidingWindow:
    def __init__(self, per_key: int, overall: int, window_seconds: float, max_keys: int = 100_000) -> None:
        self.per_key, self.overall, self.window = per_key, overall, window_seconds
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> float:
        """0 when this hit is allowed (and counted), else the seconds until it would be."""
        now = time.monotonic() if now is None else now
        cutoff = now - self.window
        with self._lock:
            while self._all and self._all[0] <= cutoff:
                self._all.popleft()
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self.max_keys:
                    self._forget_idle(cutoff)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= cutoff:
                hits.popleft()
            if len(hits) >= self.per_key:
                return hits[0] - cutoff
            if len(self._all) >= self.overall:
                return self._all[0] - cutoff
            hits.append(now)
            self._all.append(now)
            return 0.0

    def _forget_idle(self, cutoff: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= cutoff]:
            del self._hits[key]
