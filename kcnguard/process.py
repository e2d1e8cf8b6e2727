"""Running a long-lived service in the foreground until SIGINT or SIGTERM asks it to stop."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from kcnguard.settings import Settings

log = logging.getLogger("kcnguard")

ServiceRun = Callable[[Settings, threading.Event], None]


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, so the service finishes its batch instead of dying mid-way."""
    stop = threading.Event()

    def _handler(signum: int, _frame: object) -> None:
        log.info("signal %s received: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)
    return stop


def run_until_stopped(run: ServiceRun, settings: Settings) -> int:
    run(settings, stop_on_signals())
    return 0
