"""The loop every consuming service runs: decode, handle, dead-letter, commit.

A record that cannot be decoded or validated, or that its handler rejects, goes to the
dead-letter topic with the reason and its raw bytes; the worker goes on. When the bus
or store is down (a TransientError) the batch is retried with backoff and nothing is
committed, so nothing acknowledged is lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from kcnguard.backoff import Backoff
from kcnguard.bus.base import Bus, Consumer, Message
from kcnguard.errors import RebalancedError, TransientError
from kcnguard.heartbeat import Heartbeat
from kcnguard.records import DeadLetter, Record
from kcnguard.settings import POLL_MARGIN_SECONDS, get_settings
from kcnguard.topics import DEAD_LETTER, Topic
from kcnguard.validation import problem_text

log = logging.getLogger(__name__)

Handler = Callable[[list[Record]], None]


@dataclass
class WorkerStats:
    handled: int = 0
    dead_lettered: int = 0
    batches: int = 0
    retries: int = 0
    errors: list[str] = field(default_factory=list)


def decode(topic: Topic, message: Message) -> Record:
    """The record a message carries; raises ValueError with a reason an operator can act on."""
    try:
        return topic.record.model_validate_json(message.value)
    except ValidationError as exc:
        raise ValueError(f"not a valid {topic.record.__name__}: {problem_text(exc, '(record)', 10)}") from None


class RecordWorker:
    def __init__(
        self,
        bus: Bus,
        group: str,
        topic: Topic,
        handle: Handler,
        *,
        name: str = "worker",
        batch_size: int = 200,
        poll_seconds: float = 1.0,
        retry_max_seconds: float = 30.0,
        stop: threading.Event | None = None,
        heartbeat: Heartbeat | None = None,
        max_poll_seconds: float | None = None,
    ) -> None:
        self.bus, self.group, self.topic, self.handle = bus, group, topic, handle
        self.name = name
        self.batch_size, self.poll_seconds = batch_size, poll_seconds
        self.retry_max_seconds = retry_max_seconds
        self.stop = stop or threading.Event()
        self.stats = WorkerStats()
        self._consumer: Consumer | None = None
        self.heartbeat = heartbeat or Heartbeat.from_settings()
        # The longest this worker goes between polls is its own batch at the worst time per record: past
        # that its group takes its partitions, and (on Kafka) a rebalance waits no longer for it.
        record_seconds = get_settings().worker_record_max_seconds
        self.max_poll_seconds = max_poll_seconds or batch_size * record_seconds + POLL_MARGIN_SECONDS

    @property
    def consumer(self) -> Consumer:
        if self._consumer is None:
            self._consumer = self.bus.subscribe(
                self.group, [self.topic], client_id=self.name, max_poll_seconds=self.max_poll_seconds
            )
        return self._consumer

    def run(self) -> None:
        log.info("%s: consuming %s as group %s", self.name, self.topic.name, self.group)
        backoff = Backoff(longest=self.retry_max_seconds)
        while not self.stop.is_set():
            self.heartbeat.beat()
            try:
                self.run_once()
                backoff.reset()
            except TransientError as exc:
                self.stats.retries += 1
                log.warning("%s: %s; retrying", self.name, exc)
                self._drop_consumer()
                backoff.wait(self.stop)
        self.close()

    def run_once(self) -> int:
        """Poll one batch and see it through; returns how many messages were settled."""
        messages = self.consumer.poll(self.batch_size, self.poll_seconds)
        if not messages:
            return 0
        self.stats.batches += 1
        records: list[tuple[Message, Record]] = []
        dead: list[DeadLetter] = []
        for message in messages:
            try:
                records.append((message, decode(self.topic, message)))
            except ValueError as exc:
                dead.append(self._dead_letter(message, str(exc)))
        undecodable = len(dead)
        if records and not self._handle_all(records, dead):
            return 0  # stopping mid-retry: nothing committed, the batch comes back
        if dead:
            self.bus.publish_records(DEAD_LETTER, dead)
            self.stats.dead_lettered += len(dead)
            for letter in dead:
                log.error(
                    "%s: %s@%s/%s dead-lettered: %s",
                    self.name,
                    letter.source,
                    letter.partition,
                    letter.offset,
                    letter.reason,
                )
        self.bus.flush()
        try:
            self.consumer.commit(messages)
        except RebalancedError as exc:
            log.warning("%s: %s; the new owner re-delivers", self.name, exc)
        self.stats.handled += len(records) - (len(dead) - undecodable)  # rejected by the handler: not handled
        return len(messages)

    def _handle_all(self, records: list[tuple[Message, Record]], dead: list[DeadLetter]) -> bool:
        """Handle the batch; fall back to one at a time to isolate a record the handler rejects."""
        try:
            return self._with_retries([r for _, r in records])
        except Exception as exc:  # a record-level failure somewhere in the batch
            if len(records) == 1:
                message, _ = records[0]
                dead.append(self._dead_letter(message, f"handler failed: {type(exc).__name__}: {exc}"))
                return True
            log.warning("%s: batch of %d failed (%s); handling one at a time", self.name, len(records), exc)
        for message, record in records:
            try:
                if not self._with_retries([record]):
                    return False
            except Exception as exc:
                dead.append(self._dead_letter(message, f"handler failed: {type(exc).__name__}: {exc}"))
        return True

    def _with_retries(self, batch: list[Record]) -> bool:
        backoff = Backoff(longest=self.retry_max_seconds)
        while True:
            try:
                self.handle(batch)
                return True
            except TransientError as exc:
                self.stats.retries += 1
                log.warning("%s: %s; retrying %d records", self.name, exc, len(batch))
                if not backoff.wait(self.stop):
                    return False

    def _dead_letter(self, message: Message, reason: str) -> DeadLetter:
        return DeadLetter.of(
            message.value,
            reason,
            source=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key.decode(errors="replace") if message.key else None,
            worker=self.name,
        )

    def _drop_consumer(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close()
            except Exception:  # a broken connection may fail to close; a new one is made either way
                log.debug("%s: closing a broken consumer failed", self.name, exc_info=True)
            self._consumer = None

    def close(self) -> None:
        self._drop_consumer()
