"""The Kafka backend, with kafka-python: acks from all replicas, explicit commits, bounded waits.

Every call that talks to the brokers has a time limit, and a broker that cannot be reached
surfaces as BusUnavailable (a TransientError the worker retries), never as a hang.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka import errors as kerrors
from kafka.structs import OffsetAndMetadata

from kcnguard.bus.base import Bus, Consumer, Message
from kcnguard.errors import BusUnavailable, RebalancedError
from kcnguard.topics import ALL, Topic

log = logging.getLogger(__name__)

DEFAULT_PARTITIONS = 4

# A group that moved on without us: the commit is refused and the new owner re-delivers.
_REBALANCED = (
    kerrors.CommitFailedError,
    kerrors.RebalanceInProgressError,
    kerrors.IllegalGenerationError,
    kerrors.UnknownMemberIdError,
    kerrors.FencedInstanceIdError,
)
# Brokers down, unreachable or busy: worth retrying later.
_UNAVAILABLE = (
    kerrors.KafkaTimeoutError,
    kerrors.KafkaConnectionError,
    kerrors.NodeNotReadyError,
    kerrors.RetriableError,
    kerrors.IllegalStateError,  # raised when the client's connection was closed under it
    ConnectionError,
    TimeoutError,
    OSError,
)


class KafkaBus(Bus):
    def __init__(
        self,
        bootstrap: str,
        namespace: str = "kcnguard",
        *,
        partitions: int = DEFAULT_PARTITIONS,
        replication_factor: int = -1,
        timeout: float = 10.0,
        session_timeout: float = 10.0,
        security: dict[str, Any] | None = None,
        heartbeat_interval: float = 3.0,
        max_poll_interval: float = 300.0,
        instance_id: str = "",
    ) -> None:
        super().__init__(namespace)
        self.bootstrap = [b.strip() for b in bootstrap.split(",") if b.strip()]
        if not self.bootstrap:
            raise ValueError(f"no Kafka broker in {bootstrap!r}: use host:9092[,host:9092]")
        self.partitions = partitions
        self.replication_factor = replication_factor  # -1: the broker's default
        self.timeout_ms = int(timeout * 1000)
        if not 0 < heartbeat_interval < session_timeout:
            raise ValueError(
                f"the heartbeat interval ({heartbeat_interval} s) must be shorter than"
                f" the session timeout ({session_timeout} s)"
            )
        self.session_timeout_ms = int(session_timeout * 1000)
        # TLS and SASL (kcnguard.transport.kafka_options): the same for the producer, consumers and admin.
        self.security = dict(security or {})
        self.heartbeat_interval_ms = int(heartbeat_interval * 1000)
        self.max_poll_interval_ms = int(max_poll_interval * 1000)
        self.instance_id = instance_id
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()
        self._send_errors: list[BaseException] = []

    @property
    def _common(self) -> dict[str, Any]:
        return {
            "bootstrap_servers": self.bootstrap,
            "request_timeout_ms": self.timeout_ms,
            # The broker's version is asked at start; a broker that is down fails this within the limit.
            "bootstrap_timeout_ms": self.timeout_ms,
            "reconnect_backoff_max_ms": 2000,
            **self.security,
        }

    @contextmanager
    def unavailable_as_error(self, doing: str) -> Iterator[None]:
        try:
            yield
        except _REBALANCED as exc:
            raise RebalancedError(f"kafka {doing}: {exc}") from exc
        except _UNAVAILABLE as exc:
            log.error("kafka at %s: %s failed: %s", ",".join(self.bootstrap), doing, exc)
            raise BusUnavailable(f"kafka at {','.join(self.bootstrap)}: {doing} failed: {exc}") from exc

    def _check_reachable(self) -> None:
        """Fail fast when no broker even accepts a connection.

        kafka-python 3.0.12 leaves its I/O thread running when a client cannot bootstrap, so a
        worker retrying against a dead broker would pile up threads; this check makes no client.
        """
        problems = []
        for server in self.bootstrap:
            host, _, port = server.rpartition(":") if ":" in server else (server, "", "9092")
            try:
                with socket.create_connection((host.strip("[]"), int(port)), self.timeout_ms / 1000):
                    return
            except (OSError, ValueError) as exc:
                problems.append(f"{server}: {exc}")
        log.error("kafka: no broker reachable (%s)", "; ".join(problems))
        raise BusUnavailable(f"kafka: no broker reachable ({'; '.join(problems)})")

    # -- publishing

    def _producer_or_new(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                self._check_reachable()
                with self.unavailable_as_error("connecting the producer"):
                    self._producer = KafkaProducer(
                        **self._common,
                        acks="all",
                        linger_ms=5,
                        batch_size=256 * 1024,
                        max_block_ms=self.timeout_ms,
                        delivery_timeout_ms=max(30_000, self.timeout_ms + 5_000),
                        # Dead letters carry up to 1 MB of raw bytes, base64 and wrapped: room for them.
                        max_request_size=4 * 1024 * 1024,
                    )
            return self._producer

    def publish_many(
        self,
        topic: Topic | str,
        items: Iterable[tuple[bytes | None, bytes]],
        headers: dict[str, str] | None = None,
    ) -> None:
        name = self.physical(topic)
        wire_headers = [(k, v.encode()) for k, v in headers.items()] if headers else None
        producer = self._producer_or_new()
        with self.unavailable_as_error(f"publishing to {name}"):
            for key, value in items:
                if not isinstance(value, bytes | bytearray | memoryview):
                    raise TypeError(f"a message value must be bytes, not {type(value).__name__}")
                try:
                    future = producer.send(name, value=bytes(value), key=key, headers=wire_headers)
                except kerrors.MessageSizeTooLargeError as exc:
                    # Not transient: retrying the same record would wedge the caller.
                    raise ValueError(f"a message of {len(value)} bytes is too large for {name}: {exc}") from exc
                future.add_errback(self._send_errors.append)

    def flush(self, timeout: float = 30.0) -> None:
        if self._producer is None:
            return
        with self.unavailable_as_error("flushing"):
            self._producer.flush(timeout=timeout)
        if self._send_errors:
            # A record the producer gave up on is not on the bus: the caller must not commit.
            errors, self._send_errors = self._send_errors, []
            log.error("kafka: %d sends failed, first: %s", len(errors), errors[0])
            raise BusUnavailable(f"kafka: {len(errors)} messages were not delivered: {errors[0]}")

    def ensure_topics(self, topics: Iterable[Topic] = ALL) -> None:
        names = [self.physical(t) for t in topics]
        self._check_reachable()
        with self.unavailable_as_error("creating topics"):
            admin = KafkaAdminClient(**self._common)
            try:
                existing = set(admin.list_topics())
                missing = [n for n in names if n not in existing]
                for name in missing:
                    try:
                        admin.create_topics(
                            {name: {"num_partitions": self.partitions, "replication_factor": self.replication_factor}},
                            timeout_ms=self.timeout_ms,
                            wait_for_metadata=True,
                        )
                        log.info("kafka: created topic %s with %d partitions", name, self.partitions)
                    except kerrors.TopicAlreadyExistsError:  # another process created it meanwhile
                        pass
            finally:
                admin.close()

    # -- consuming

    def _make_consumer(
        self, group: str, topics: Sequence[Topic | str], client_id: str | None, max_poll_seconds: float | None
    ) -> Consumer:
        max_poll_ms = int(max_poll_seconds * 1000) if max_poll_seconds else self.max_poll_interval_ms
        return KafkaBusConsumer(self, group, topics, client_id, max_poll_ms)

    def close(self) -> None:
        self._close_consumers()
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=self.timeout_ms / 1000)
            except Exception:  # closing a producer whose broker is gone may fail; nothing is left to save
                log.warning("kafka: closing the producer failed", exc_info=True)


class KafkaBusConsumer(Consumer):
    def __init__(
        self,
        bus: KafkaBus,
        group: str,
        topics: Sequence[Topic | str],
        client_id: str | None,
        max_poll_interval_ms: int = 300_000,
    ) -> None:
        self.bus = bus
        self.group = bus.physical(group)
        self._prefix = f"{bus.namespace}."
        physical = [bus.physical(t) for t in topics]
        options: dict[str, Any] = {"client_id": client_id} if client_id else {}
        if bus.instance_id:
            # A static member: restarted under the same id, it takes its partitions back at once, with no
            # rebalance, instead of the group waiting for the dead member to time out.
            options["group_instance_id"] = bus.instance_id
        bus._check_reachable()
        with bus.unavailable_as_error(f"joining group {self.group}"):
            self._consumer = KafkaConsumer(
                *physical,
                **bus._common,
                **options,
                group_id=self.group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                # A member killed outright is noticed after the session; one alive but stuck after the poll
                # interval, which is also how long a rebalance waits for members to rejoin: both are kept to
                # what a batch really needs, not Kafka's 5 minutes, so one death stalls the group for seconds.
                session_timeout_ms=bus.session_timeout_ms,
                heartbeat_interval_ms=bus.heartbeat_interval_ms,
                max_poll_interval_ms=max(max_poll_interval_ms, bus.session_timeout_ms),
            )
        self._closed = False

    def _logical(self, name: str) -> str:
        return name[len(self._prefix) :] if name.startswith(self._prefix) else name

    @property
    def assignment(self) -> set[tuple[str, int]]:
        return {(self._logical(tp.topic), tp.partition) for tp in self._consumer.assignment() or ()}

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Message]:
        self._check_open()
        with self.bus.unavailable_as_error(f"polling {self.group}"):
            batches = self._consumer.poll(timeout_ms=int(max(0.0, timeout) * 1000), max_records=max_records)
        return [
            Message(
                topic=self._logical(record.topic),
                partition=record.partition,
                offset=record.offset,
                value=record.value,
                key=record.key,
                headers={k: v.decode(errors="replace") if v is not None else "" for k, v in record.headers or ()},
                timestamp=record.timestamp / 1000 if record.timestamp and record.timestamp > 0 else 0.0,
            )
            for records in batches.values()
            for record in records
        ]

    def commit(self, messages: Sequence[Message]) -> None:
        self._check_open()
        if not messages:
            return
        upto: dict[TopicPartition, int] = {}
        for message in messages:
            tp = TopicPartition(self.bus.physical(message.topic), message.partition)
            upto[tp] = max(upto.get(tp, 0), message.offset + 1)
        # The broker accepts a commit for any partition from a current member, so a partition
        # this member lost would move back under its new owner: check ownership here.
        owned = self._consumer.assignment() or set()
        lost = [tp for tp in upto if tp not in owned]
        offsets = {tp: OffsetAndMetadata(offset, "", -1) for tp, offset in upto.items() if tp in owned}
        if offsets:
            with self.bus.unavailable_as_error(f"committing offsets of {self.group}"):
                self._consumer.commit(offsets)
        if lost:
            names = ", ".join(f"{self._logical(tp.topic)}/{tp.partition}" for tp in lost)
            raise RebalancedError(f"group {self.group} gave {names} to another member; not committed there")

    def _check_open(self) -> None:
        if self._closed:
            raise BusUnavailable(f"consumer of {self.group} is closed")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.bus._consumers.discard(self)
        try:
            # Leaving the group cleanly hands its partitions over now rather than after a session timeout.
            self._consumer.close(autocommit=False, timeout_ms=self.bus.timeout_ms)
        except Exception:
            log.warning("kafka: closing the consumer of %s failed", self.group, exc_info=True)
