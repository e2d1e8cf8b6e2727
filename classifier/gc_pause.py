"""Whether the cyclic garbage collector runs while a batch is scored: it does not.

A batch allocates many objects (matches, features, reasons, records) that form no reference
cycles. Each allocation counts towards the collector's next pass, and every pass walks the
scorer's kept readings too, tens of thousands of objects, for nothing to collect. What dies in
the batch is freed by reference counting anyway; anything cyclic waits for the next pass after
it. The switch is process-wide: a thread scoring beside this one may run unpaused.
"""

from __future__ import annotations

import gc


class CycleCollectionPaused:
    """No cyclic garbage collection inside the block (re-enabled after, unless it was off before)."""

    __slots__ = ("_enabled",)

    def __enter__(self) -> None:
        self._enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self._enabled:
            gc.enable()
