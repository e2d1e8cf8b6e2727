"""The Twisted plumbing: run a coroutine on Scrapy's asyncio reactor in the calling thread, once per process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from scrapy.utils.reactor import install_reactor, is_asyncio_reactor_installed, is_reactor_installed

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


def run_reactor(main: Callable[[], Awaitable[Any]]) -> Any:
    """Run `main` on Scrapy's asyncio reactor in this thread until it returns; once per process."""
    if not is_reactor_installed():
        install_reactor(ASYNCIO_REACTOR)
    elif not is_asyncio_reactor_installed():
        raise RuntimeError("a non-asyncio Twisted reactor is installed; the crawler needs " + ASYNCIO_REACTOR)
    from twisted.internet import reactor
    from twisted.internet.defer import Deferred

    outcome: dict[str, Any] = {}

    def started() -> None:
        deferred = Deferred.fromFuture(asyncio.ensure_future(main()))

        def finished(result: Any) -> None:
            outcome["result"] = result
            reactor.stop()  # type: ignore[attr-defined]

        deferred.addBoth(finished)

    reactor.callWhenRunning(started)  # type: ignore[attr-defined]
    # The `kcnguard` command owns SIGINT/SIGTERM (they set `stop`); Twisted must not take them over.
    reactor.run(installSignalHandlers=False)  # type: ignore[attr-defined]
    result = outcome.get("result")
    if hasattr(result, "raiseException"):  # a twisted Failure
        result.raiseException()
    return result
