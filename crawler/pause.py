"""Waiting in short ticks, so a stop asked for mid-wait is heeded at once rather than at the wait's end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

# How often a waiting loop looks at its stop condition; small enough that Ctrl-C feels immediate.
TICK = 0.1


async def pause(seconds: float, going_on: Callable[[], bool]) -> None:
    """Sleep up to `seconds`, returning early once `going_on()` is false."""
    deadline = time.monotonic() + seconds
    while going_on() and time.monotonic() < deadline:
        await asyncio.sleep(min(TICK, max(0.0, deadline - time.monotonic())))
