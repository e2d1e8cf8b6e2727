"""Running a long-lived service in the foreground until SIGINT or SIGTERM asks it to stop.

Start-up waits out what would pass on its own: a bus or store that is down, and a full disk.
A disk that fills is an operator's to free, not a reason for a traceback and a restart loop;
the service says so once per attempt, in a line that names the disk, and tries again.
"""

from __future__ import annotations

import errno
import logging
import signal
import sqlite3
import threading
from collections.abc import Callable
from typing import TypeVar

from kcnguard.backoff import Backoff
from kcnguard.errors import TransientError
from kcnguard.settings import Settings

log = logging.getLogger("kcnguard")

ServiceRun = Callable[[Settings, threading.Event], None]
T = TypeVar("T")

_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_DISK_FULL_WORDS = ("database or disk is full", "disk is full", "no space left on device", "disk quota exceeded")


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether `exc`, or an error it was raised from, says the disk (or the quota) is full."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
            return True
        if isinstance(exc, OSError | sqlite3.Error | TransientError) and any(
            w in str(exc).lower() for w in _DISK_FULL_WORDS
        ):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class StoppedBeforeReady(Exception):
    """`stop` was set while a start-up step was still waiting: the service ends without having run."""


def until_ready(step: Callable[[], T], what: str, stop: threading.Event, *, service: str, longest: float = 30.0) -> T:
    """`step()`'s result once it succeeds; raises StoppedBeforeReady if `stop` is set first.

    A TransientError or a full disk is logged and retried with backoff; any other error is a
    real fault (bad settings, a bug) and ends the service as it should.
    """
    backoff = Backoff(longest=longest)
    while not stop.is_set():
        try:
            return step()
        except (TransientError, OSError, sqlite3.Error) as exc:
            if is_disk_full(exc):
                reason = f"đĩa đầy / disk full ({exc}): free space on the data disk"
            elif isinstance(exc, TransientError):
                reason = str(exc)
            else:
                raise
            delay = backoff.next_delay()
            log.warning("%s: %s not ready: %s; retrying in %.1f s", service, what, reason, delay)
            if stop.wait(delay):
                break
    raise StoppedBeforeReady(f"{service}: stopped while waiting for the {what}")


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
