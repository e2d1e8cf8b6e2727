"""The bus: one interface over Kafka and the embedded queue.

Delivery is at-least-once. A consumer's position moves as it polls, but only `commit`
makes it durable, so a worker commits after a record is durably handled and a crash
re-delivers what was not. Handlers are idempotent, so the effect is once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kcnguard.records import Record
from kcnguard.topics import ALL, Topic, physical


@dataclass(frozen=True)
class Message:
    topic: str  # the logical name, as in kcnguard.topics
    partition: int
    offset: int
    value: bytes
    key: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    timestamp: float = 0.0


class Consumer(ABC):
    """One member of a consumer group. Use it from one thread."""

    @abstractmethod
    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Message]:
        """Up to max_records new messages, waiting at most timeout seconds for the first."""

    @abstractmethod
    def commit(self, messages: Sequence[Message]) -> None:
        """Make durable that these messages (and all before them in their partitions) are handled.

        Raises kcnguard.errors.RebalancedError when a partition was taken over meanwhile:
        the new owner re-delivers, which idempotent handling absorbs.
        """

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Consumer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Bus(ABC):
    """Publish and subscribe by logical topic; the namespace keeps deployments apart."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._consumers: set[Consumer] = set()  # open ones; each leaves this set when it closes

    def physical(self, topic: Topic | str) -> str:
        return physical(self.namespace, topic)

    @abstractmethod
    def publish_many(
        self,
        topic: Topic | str,
        items: Iterable[tuple[bytes | None, bytes]],
        headers: dict[str, str] | None = None,
    ) -> None:
        """Queue (key, value) pairs; durable once `flush` returns."""

    def publish(
        self, topic: Topic | str, value: bytes, key: bytes | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self.publish_many(topic, [(key, value)], headers)

    def publish_records(
        self, topic: Topic, records: Sequence[Record], keys: Sequence[str | None] | None = None
    ) -> None:
        for record in records:
            if not isinstance(record, topic.record):
                raise TypeError(f"topic {topic.name} carries {topic.record.__name__}, not {type(record).__name__}")
        keys = keys or [None] * len(records)
        self.publish_many(
            topic,
            [(k.encode() if k else None, r.to_json()) for k, r in zip(keys, records, strict=True)],
            {"record": topic.record.__name__, "schema_version": str(records[0].schema_version)} if records else None,
        )

    @abstractmethod
    def flush(self, timeout: float = 30.0) -> None:
        """Block until everything published so far is durable on the bus."""

    @abstractmethod
    def ensure_topics(self, topics: Iterable[Topic] = ALL) -> None:
        """Create the topics if they do not exist (idempotent)."""

    def subscribe(
        self,
        group: str,
        topics: Sequence[Topic | str],
        client_id: str | None = None,
        *,
        max_poll_seconds: float | None = None,
    ) -> Consumer:
        """Join `group` (namespaced like topics) and read `topics` from the group's committed offsets.

        `max_poll_seconds` is the longest the caller may go between two polls (its worst batch): a
        member silent for longer is taken for stuck and its partitions go to the others. None: the bus's own.
        """
        if not topics:
            raise ValueError("subscribe needs at least one topic")
        if max_poll_seconds is not None and max_poll_seconds <= 0:
            raise ValueError(f"max_poll_seconds must be positive, not {max_poll_seconds}")
        consumer = self._make_consumer(group, topics, client_id, max_poll_seconds)
        self._consumers.add(consumer)
        return consumer

    @abstractmethod
    def _make_consumer(
        self, group: str, topics: Sequence[Topic | str], client_id: str | None, max_poll_seconds: float | None
    ) -> Consumer:
        """A new member of `group` reading `topics`; `subscribe` has checked the arguments."""

    def _close_consumers(self) -> None:
        # A copy: each consumer takes itself out of the set as it closes.
        for consumer in list(self._consumers):
            consumer.close()

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Bus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
