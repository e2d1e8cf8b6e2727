"""The embedded bus: Kafka's model in one SQLite file, so KCN Guard runs on one machine with no server.

Topics are split into a fixed number of partitions, each an append-only log with its own
offsets. A consumer group's members lease partitions: every member computes the same fair
assignment from the list of live members, gives up what is no longer its own and takes what
is free. A member that stops heartbeating loses its leases after the session timeout; one
that closes cleanly gives them up at once. Offsets are committed per group and partition,
and only by the lease holder, so a member that lost a partition learns it at commit time.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kcnguard.bus.base import Bus, Consumer, Message
from kcnguard.errors import BusUnavailable, RebalancedError
from kcnguard.sqlite_file import SqliteFile
from kcnguard.topics import ALL, Topic

log = logging.getLogger(__name__)

DEFAULT_PARTITIONS = 4

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, partitions INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS partitions (
    topic_id INTEGER NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (topic_id, partition)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    topic_id INTEGER NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
    key BLOB, value BLOB NOT NULL, headers TEXT, ts REAL NOT NULL,
    PRIMARY KEY (topic_id, partition, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members (
    grp TEXT NOT NULL, member TEXT NOT NULL, topics TEXT NOT NULL, heartbeat REAL NOT NULL,
    PRIMARY KEY (grp, member)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (
    grp TEXT NOT NULL, topic_id INTEGER NOT NULL, partition INTEGER NOT NULL, member TEXT NOT NULL,
    PRIMARY KEY (grp, topic_id, partition)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS offsets (
    grp TEXT NOT NULL, topic_id INTEGER NOT NULL, partition INTEGER NOT NULL, committed INTEGER NOT NULL,
    PRIMARY KEY (grp, topic_id, partition)
) WITHOUT ROWID;
"""

_TopicPartition = tuple[int, int]  # (topic id, partition)


def partition_for(key: bytes, partitions: int) -> int:
    """The same key lands in the same partition in every process (Python's hash() is salted per process)."""
    return zlib.crc32(key) % partitions


class EmbeddedBus(Bus):
    def __init__(
        self,
        path: Path,
        namespace: str = "kcnguard",
        *,
        partitions: int = DEFAULT_PARTITIONS,
        session_timeout: float = 10.0,
        max_poll_interval: float = 300.0,
        retention_hours: float | None = None,
        busy_timeout: float = 15.0,
    ) -> None:
        super().__init__(namespace)
        if retention_hours is None:
            from kcnguard.settings import get_settings

            retention_hours = get_settings().bus_retention_hours
        self.path = Path(path)
        self.partitions = partitions
        self.session_timeout = session_timeout
        self.max_poll_interval = max_poll_interval
        self.retention_seconds = retention_hours * 3600
        self._db = SqliteFile(self.path, busy_timeout, unavailable=self._unavailable, closed=self._closed_error)
        self._topics: dict[str, tuple[int, int]] = {}  # physical name -> (id, partitions); topics never shrink
        self._round_robin = itertools.count()
        self._next_expiry = 0.0
        self._open()

    def _unavailable(self, doing: str, exc: sqlite3.Error) -> Exception | None:
        if not isinstance(exc, sqlite3.OperationalError):  # locked, busy, disk I/O, disk full, cannot open
            return None
        return BusUnavailable(f"embedded bus {self.path}: {doing} failed: {exc}")

    def _closed_error(self) -> Exception:
        return BusUnavailable(f"embedded bus {self.path} is closed")

    def _open(self) -> None:
        conn = self._db.connection()  # in WAL mode: consumers read while a producer writes
        with self._db.unavailable_as_error("setting up"):
            try:
                conn.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
        log.debug("embedded bus open at %s (namespace %s)", self.path, self.namespace)

    # -- topics

    def topic_info(self, conn: sqlite3.Connection, name: str) -> tuple[int, int]:
        """(id, partitions) of a physical topic, creating it if new. Call inside a write transaction."""
        known = self._topics.get(name)
        if known:
            return known
        row = conn.execute("SELECT id, partitions FROM topics WHERE name = ?", (name,)).fetchone()
        if row is None:
            topic_id = conn.execute(
                "INSERT INTO topics (name, partitions) VALUES (?, ?)", (name, self.partitions)
            ).lastrowid
            conn.executemany(
                "INSERT INTO partitions (topic_id, partition) VALUES (?, ?)",
                [(topic_id, p) for p in range(self.partitions)],
            )
            return topic_id, self.partitions  # cached once committed, when next looked up
        self._topics[name] = (row[0], row[1])
        return self._topics[name]

    def ensure_topics(self, topics: Iterable[Topic] = ALL) -> None:
        with self._db.write("creating topics") as conn:
            for topic in topics:
                self.topic_info(conn, self.physical(topic))

    # -- publishing

    def publish_many(
        self,
        topic: Topic | str,
        items: Iterable[tuple[bytes | None, bytes]],
        headers: dict[str, str] | None = None,
    ) -> None:
        batch = list(items)
        if not batch:
            return
        for key, value in batch:
            if not isinstance(value, bytes | bytearray | memoryview):
                raise TypeError(f"a message value must be bytes, not {type(value).__name__}")
            if key is not None and not isinstance(key, bytes | bytearray | memoryview):
                raise TypeError(f"a message key must be bytes or None, not {type(key).__name__}")
        header_text = json.dumps(headers, ensure_ascii=False, sort_keys=True) if headers else None
        name = self.physical(topic)
        with self._db.write(f"publishing {len(batch)} messages to {name}") as conn:
            topic_id, count = self.topic_info(conn, name)
            next_offset = dict(
                conn.execute("SELECT partition, next_offset FROM partitions WHERE topic_id = ?", (topic_id,))
            )
            now = time.time()
            rows = []
            for key, value in batch:
                p = partition_for(bytes(key), count) if key is not None else next(self._round_robin) % count
                offset = next_offset[p]
                next_offset[p] = offset + 1
                rows.append((topic_id, p, offset, key, value, header_text, now))
            conn.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            conn.executemany(
                "UPDATE partitions SET next_offset = ? WHERE topic_id = ? AND partition = ?",
                [(offset, topic_id, p) for p, offset in next_offset.items()],
            )
        self._expire_old()

    def flush(self, timeout: float = 30.0) -> None:
        """Nothing to wait for: publish_many returns only after its transaction is committed."""
        if self._db.closed:
            raise self._closed_error()

    def _expire_old(self) -> None:
        """Drop messages past retention, at most once a minute, a partition per transaction."""
        if time.monotonic() < self._next_expiry:
            return
        self._next_expiry = time.monotonic() + 60
        cutoff = time.time() - self.retention_seconds
        try:
            conn = self._db.connection()
            parts = conn.execute("SELECT topic_id, partition, next_offset FROM partitions").fetchall()
            deleted = 0
            for topic_id, p, next_offset in parts:
                with self._db.write("expiring old messages") as conn:
                    # Offsets grow with time, so the first young message marks where the old ones end.
                    row = conn.execute(
                        "SELECT offset FROM messages WHERE topic_id = ? AND partition = ? AND ts >= ?"
                        " ORDER BY offset LIMIT 1",
                        (topic_id, p, cutoff),
                    ).fetchone()
                    keep_from = row[0] if row else next_offset
                    deleted += conn.execute(
                        "DELETE FROM messages WHERE topic_id = ? AND partition = ? AND offset < ?",
                        (topic_id, p, keep_from),
                    ).rowcount
            if deleted:
                log.info(
                    "embedded bus %s: deleted %d messages older than %.0f h",
                    self.path,
                    deleted,
                    self.retention_seconds / 3600,
                )
        except BusUnavailable as exc:  # retention can wait for the next minute; the publish itself succeeded
            log.warning("embedded bus %s: retention skipped: %s", self.path, exc)

    # -- consuming

    def _make_consumer(
        self, group: str, topics: Sequence[Topic | str], client_id: str | None, max_poll_seconds: float | None
    ) -> Consumer:
        return EmbeddedConsumer(self, group, topics, client_id, max_poll_seconds)

    def close(self) -> None:
        self._close_consumers()
        self._db.close()


@dataclass
class _Plan:
    dead: list[str] = field(default_factory=list)
    registered: bool = True
    held: set[_TopicPartition] = field(default_factory=set)
    release: set[_TopicPartition] = field(default_factory=set)
    acquire: set[_TopicPartition] = field(default_factory=set)

    @property
    def changes(self) -> bool:
        return bool(self.dead or not self.registered or self.release or self.acquire)


class EmbeddedConsumer(Consumer):
    REBALANCE_EVERY = 0.25  # seconds between looks at the group while polling

    def __init__(
        self,
        bus: EmbeddedBus,
        group: str,
        topics: Sequence[Topic | str],
        client_id: str | None,
        max_poll_seconds: float | None = None,
    ) -> None:
        self.bus = bus
        self.max_poll_interval = max_poll_seconds or bus.max_poll_interval
        self._db = bus._db
        self.group = bus.physical(group)
        self.member = f"{client_id or 'consumer'}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._logical: dict[int, str] = {}
        self._ids: dict[str, int] = {}
        self._partitions: dict[int, int] = {}
        with self._db.write(f"joining group {self.group}") as conn:
            for topic in topics:
                topic_id, count = bus.topic_info(conn, bus.physical(topic))
                logical = topic.name if isinstance(topic, Topic) else topic
                self._logical[topic_id], self._ids[logical], self._partitions[topic_id] = logical, topic_id, count
            self._register(conn, time.time())
        self._positions: dict[_TopicPartition, int] = {}
        self._next_rebalance = 0.0
        self._turn = 0
        self._header_cache: dict[str, dict[str, str]] = {}
        self._last_poll = time.monotonic()
        self._closed = False
        self._stop_heartbeat = threading.Event()
        self._heartbeat = threading.Thread(target=self._heartbeat_loop, name=f"heartbeat-{self.member}", daemon=True)
        self._heartbeat.start()

    def _register(self, conn: sqlite3.Connection, now: float) -> None:
        conn.execute(
            "INSERT INTO members (grp, member, topics, heartbeat) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (grp, member) DO UPDATE SET heartbeat = excluded.heartbeat",
            (self.group, self.member, json.dumps(sorted(self._logical)), now),
        )

    # -- membership

    def _heartbeat_loop(self) -> None:
        # A background heartbeat keeps the leases while a handler works through a slow batch;
        # a consumer nobody polls for max_poll_interval is taken for stuck and lets them go.
        interval = max(0.05, self.bus.session_timeout / 5)
        while not self._stop_heartbeat.wait(interval):
            if time.monotonic() - self._last_poll > self.max_poll_interval:
                continue
            try:
                with self._db.write("heartbeat") as conn:
                    conn.execute(
                        "UPDATE members SET heartbeat = ? WHERE grp = ? AND member = ?",
                        (time.time(), self.group, self.member),
                    )
            except Exception as exc:  # a missed beat is retried next interval; leases last a session
                log.debug("%s: heartbeat failed: %s", self.member, exc)

    def _plan(self, conn: sqlite3.Connection, now: float) -> _Plan:
        plan = _Plan()
        live: dict[str, set[int]] = {}
        for member, topics, heartbeat in conn.execute(
            "SELECT member, topics, heartbeat FROM members WHERE grp = ?", (self.group,)
        ):
            if heartbeat >= now - self.bus.session_timeout:
                live[member] = set(json.loads(topics))
            elif member != self.member:
                plan.dead.append(member)
        plan.registered = self.member in live
        live[self.member] = set(self._logical)
        leases = {
            (topic_id, p): member
            for topic_id, p, member in conn.execute(
                "SELECT topic_id, partition, member FROM leases WHERE grp = ?", (self.group,)
            )
        }
        target: set[_TopicPartition] = set()
        for topic_id, count in self._partitions.items():
            members = sorted(m for m, ids in live.items() if topic_id in ids)
            # Shifting by topic spreads the odd partitions of several topics over different members.
            shift = topic_id % len(members)
            target.update((topic_id, p) for p in range(count) if members[(p + shift) % len(members)] == self.member)
        plan.held = {tp for tp, member in leases.items() if member == self.member}
        plan.release = plan.held - target
        # Free, or held by a member that is gone; one a live member holds waits until it lets go.
        plan.acquire = {tp for tp in target - plan.held if leases.get(tp) not in live}
        return plan

    def _rebalance(self) -> None:
        if time.monotonic() < self._next_rebalance:
            return
        self._next_rebalance = time.monotonic() + self.REBALANCE_EVERY
        conn = self._db.connection()
        with self._db.unavailable_as_error(f"reading group {self.group}"):
            plan = self._plan(conn, time.time())
        if plan.changes:
            with self._db.write(f"rebalancing group {self.group}") as conn:
                now = time.time()
                plan = self._plan(conn, now)  # again under the write lock: another member may have moved
                if plan.dead:
                    marks = ",".join("?" * len(plan.dead))
                    conn.execute(f"DELETE FROM members WHERE grp = ? AND member IN ({marks})", (self.group, *plan.dead))
                    conn.execute(f"DELETE FROM leases WHERE grp = ? AND member IN ({marks})", (self.group, *plan.dead))
                self._register(conn, now)
                conn.executemany(
                    "DELETE FROM leases WHERE grp = ? AND topic_id = ? AND partition = ? AND member = ?",
                    [(self.group, t, p, self.member) for t, p in plan.release],
                )
                conn.executemany(
                    "INSERT INTO leases (grp, topic_id, partition, member) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (grp, topic_id, partition) DO UPDATE SET member = excluded.member",
                    [(self.group, t, p, self.member) for t, p in plan.acquire],
                )
            if plan.dead:
                log.info(
                    "%s: members %s of %s timed out; their partitions are free", self.member, plan.dead, self.group
                )
            if plan.release or plan.acquire:
                log.info(
                    "%s: group %s rebalanced: gave up %s, took %s",
                    self.member,
                    self.group,
                    self._names(plan.release),
                    self._names(plan.acquire),
                )
        self._sync_positions(conn, (plan.held - plan.release) | plan.acquire)

    def _sync_positions(self, conn: sqlite3.Connection, held: set[_TopicPartition]) -> None:
        for tp in list(self._positions):
            if tp not in held:
                del self._positions[tp]
        new = held - self._positions.keys()
        if new:
            with self._db.unavailable_as_error(f"reading offsets of {self.group}"):
                committed = {
                    (t, p): offset
                    for t, p, offset in conn.execute(
                        "SELECT topic_id, partition, committed FROM offsets WHERE grp = ?", (self.group,)
                    )
                }
            for tp in new:
                self._positions[tp] = committed.get(tp, 0)

    def _names(self, tps: Iterable[_TopicPartition]) -> str:
        return ", ".join(f"{self._logical[t]}/{p}" for t, p in sorted(tps)) or "nothing"

    @property
    def assignment(self) -> set[tuple[str, int]]:
        """The (logical topic, partition) pairs this member reads now."""
        return {(self._logical[t], p) for t, p in list(self._positions)}

    # -- reading and committing

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Message]:
        self._check_open()
        deadline = time.monotonic() + max(0.0, timeout)
        pause = 0.005
        while True:
            self._last_poll = time.monotonic()
            self._rebalance()
            messages = self._fetch(max_records)
            left = deadline - time.monotonic()
            if messages or left <= 0:
                return messages
            # Short, growing sleeps: a new message is seen within 50 ms without spinning the CPU.
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.05)

    def _fetch(self, max_records: int) -> list[Message]:
        out: list[Message] = []
        held = sorted(self._positions)
        if not held:
            return out
        self._turn = (self._turn + 1) % len(held)
        conn = self._db.connection()
        with self._db.unavailable_as_error(f"reading {self.group}"):
            for topic_id, p in held[self._turn :] + held[: self._turn]:  # start elsewhere each time: fairness
                room = max_records - len(out)
                if room <= 0:
                    break
                rows = conn.execute(
                    "SELECT offset, key, value, headers, ts FROM messages"
                    " WHERE topic_id = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?",
                    (topic_id, p, self._positions[(topic_id, p)], room),
                ).fetchall()
                if not rows:
                    continue
                logical = self._logical[topic_id]
                out.extend(
                    Message(logical, p, offset, value, key, self._headers(headers), ts)
                    for offset, key, value, headers, ts in rows
                )
                self._positions[(topic_id, p)] = rows[-1][0] + 1
        return out

    def _headers(self, text: str | None) -> dict[str, str]:
        if not text:
            return {}
        parsed = self._header_cache.get(text)
        if parsed is None:
            if len(self._header_cache) > 1000:
                self._header_cache.clear()
            parsed = self._header_cache[text] = json.loads(text)
        return dict(parsed)  # a copy each: a handler changing one message's headers changes no other

    def commit(self, messages: Sequence[Message]) -> None:
        self._check_open()
        if not messages:
            return
        upto: dict[_TopicPartition, int] = {}
        for message in messages:
            topic_id = self._ids.get(message.topic)
            if topic_id is None:
                raise ValueError(f"{self.member} does not read topic {message.topic!r}")
            tp = (topic_id, message.partition)
            upto[tp] = max(upto.get(tp, 0), message.offset + 1)
        with self._db.write(f"committing offsets of {self.group}") as conn:
            held = set(
                conn.execute(
                    "SELECT topic_id, partition FROM leases WHERE grp = ? AND member = ?", (self.group, self.member)
                ).fetchall()
            )
            # max(): a late commit of an older batch never moves the group back.
            conn.executemany(
                "INSERT INTO offsets (grp, topic_id, partition, committed) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (grp, topic_id, partition) DO UPDATE SET committed = max(committed, excluded.committed)",
                [(self.group, t, p, offset) for (t, p), offset in upto.items() if (t, p) in held],
            )
        lost = [tp for tp in upto if tp not in held]
        if lost:
            for tp in lost:
                self._positions.pop(tp, None)
            raise RebalancedError(
                f"{self.member} no longer holds {self._names(lost)} in group {self.group}; not committed there"
            )

    def _check_open(self) -> None:
        if self._closed:
            raise BusUnavailable(f"consumer {self.member} is closed")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop_heartbeat.set()
        self._heartbeat.join(timeout=5)
        self.bus._consumers.discard(self)
        try:
            # Leaving at once frees the partitions for the others now, not after a session timeout.
            with self._db.write(f"leaving group {self.group}") as conn:
                conn.execute("DELETE FROM leases WHERE grp = ? AND member = ?", (self.group, self.member))
                conn.execute("DELETE FROM members WHERE grp = ? AND member = ?", (self.group, self.member))
        except BusUnavailable as exc:
            log.warning(
                "%s: could not leave %s cleanly (%s); its leases expire by themselves", self.member, self.group, exc
            )
