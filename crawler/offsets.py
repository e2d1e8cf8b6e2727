"""Offset bookkeeping for jobs that finish out of order: which polled jobs may be committed."""

from __future__ import annotations

from kcnguard.bus import Message


class OffsetTracker:
    """Which polled jobs may be committed: a partition's offsets up to its first unfinished one.

    Jobs finish out of order when several run at once; committing a later offset would also
    commit an earlier job still crawling, which a crash would then lose.
    """

    def __init__(self) -> None:
        self._pending: dict[tuple[str, int], dict[int, tuple[Message, bool]]] = {}

    def started(self, message: Message) -> None:
        self._pending.setdefault((message.topic, message.partition), {})[message.offset] = (message, False)

    def finished(self, message: Message) -> None:
        partition = self._pending.get((message.topic, message.partition), {})
        # Unknown after a dropped consumer: the job is re-delivered from the last commit (and skipped if done).
        if message.offset in partition:
            partition[message.offset] = (message, True)

    def committable(self) -> list[Message]:
        """For each partition, the last message of its finished prefix (removed from tracking)."""
        ready: list[Message] = []
        for partition in self._pending.values():
            last: Message | None = None
            for offset in sorted(partition):
                message, done = partition[offset]
                if not done:
                    break
                last = message
                del partition[offset]
            if last is not None:
                ready.append(last)
        return ready

    def clear(self) -> None:
        self._pending.clear()
