"""Exponential backoff with jitter, for waiting out a bus or store that is down."""

from __future__ import annotations

import random
import threading


class Backoff:
    def __init__(self, first: float = 0.5, longest: float = 30.0, factor: float = 2.0) -> None:
        self.first, self.longest, self.factor = first, longest, factor
        self.attempt = 0

    def next_delay(self) -> float:
        delay = min(self.longest, self.first * self.factor**self.attempt)
        self.attempt += 1
        # Jitter keeps a group of workers from hammering a recovering server in step.
        return delay * random.uniform(0.5, 1.0)

    def wait(self, stop: threading.Event | None = None) -> bool:
        """Sleep the next delay; False when `stop` was set meanwhile."""
        delay = self.next_delay()
        if stop is None:
            threading.Event().wait(delay)
            return True
        return not stop.wait(delay)

    def reset(self) -> None:
        self.attempt = 0
