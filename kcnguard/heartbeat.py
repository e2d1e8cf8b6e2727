"""A worker's sign of life for process supervisors: a file touched on every loop, busy or idle.

Kubernetes (deploy/k8s) restarts a worker whose file has not been touched for minutes: its loop
is stuck, and a restart hands its partitions to the other members of the group. An HTTP probe
would need a server in every worker; a file needs nothing.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kcnguard.settings import Settings

log = logging.getLogger(__name__)

# Touching more often says nothing more to a probe that looks every half minute.
EVERY_SECONDS = 5.0


class Heartbeat:
    def __init__(self, path: str | Path | None, every_seconds: float = EVERY_SECONDS) -> None:
        self.path = Path(path) if path else None
        self.every_seconds = every_seconds
        self._last = float("-inf")
        self._warned = False

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Heartbeat:
        """The file KCNGUARD_HEARTBEAT_FILE names in `settings` (default: the settings in force)."""
        from kcnguard.settings import get_settings

        return cls((settings or get_settings()).heartbeat_file)

    def beat(self) -> None:
        if self.path is None:
            return
        now = time.monotonic()
        if now - self._last < self.every_seconds:
            return
        try:
            self.path.touch()
            self._last = now
        except OSError as exc:  # a full or read-only disk must not stop the work; the probe will tell
            if not self._warned:
                log.warning("heartbeat file %s not touched: %s", self.path, exc)
                self._warned = True
