"""One SQLite file shared by threads and processes, as the embedded bus and the embedded store use it.

Each thread gets its own connection, the file runs in WAL mode (readers never wait for the writer),
and each write transaction takes the write lock up front (BEGIN IMMEDIATE), so two processes never
deadlock upgrading a read into a write. Which SQLite errors mean "the file is unavailable, retry
later" and how to word them is the user's call, through `unavailable`.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

# (what was being done, the SQLite error) -> the error to raise instead, or None to let it through as it is.
Unavailable = Callable[[str, sqlite3.Error], Exception | None]


MMAP_BYTES = 2 * 1024**3


def _create_private(path: Path) -> None:
    """Create the file readable by its owner only, if it is new: it holds keys' hashes, sessions and
    every case. SQLite gives the -wal and -shm files it makes beside it the same mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


class SqliteFile:
    """Hands each thread its own connection (sqlite3 connections must not be shared between threads).

    Connections are made again after a fork: one inherited from a parent process would share
    its file locks, which SQLite forbids.
    """

    def __init__(
        self,
        path: Path,
        busy_timeout: float,
        *,
        unavailable: Unavailable,
        closed: Callable[[], Exception],
    ) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._unavailable = unavailable
        self._closed_error = closed
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def connection(self) -> sqlite3.Connection:
        if self._closed:
            raise self._closed_error()
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = self._connect()
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _connect(self) -> sqlite3.Connection:
        with self.unavailable_as_error("opening"):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                _create_private(self.path)
            except OSError as exc:
                raise sqlite3.OperationalError(f"unable to open database file: {exc}") from exc
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False)
            try:
                conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
                # FULL: a committed write (a publish, an offset, a document) survives a power cut.
                conn.execute("PRAGMA synchronous=FULL")
                # Reads through a shared memory map instead of a private page cache per connection: a queue
                # walk over scattered rows costs a third less, and threads do not each hold a copy. SQLite caps
                # it at its build's limit (2 GiB by default); writes still go through the WAL.
                conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
                self._set_wal(conn)
            except BaseException:
                conn.close()
                raise
        with self._lock:
            self._all.append(conn)
        return conn

    def _set_wal(self, conn: sqlite3.Connection) -> None:
        # Switching to WAL needs a moment alone with the file; a second process starting at the same
        # time may see "locked" once, after which the mode is set in the file for good.
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise sqlite3.OperationalError(f"unable to open database file in WAL mode (got {mode})")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @contextmanager
    def unavailable_as_error(self, doing: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            error = self._unavailable(doing, exc)
            if error is None:
                raise
            raise error from exc

    @contextmanager
    def write(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock at once so reads inside it stay true."""
        conn = self.connection()
        with self.unavailable_as_error(doing):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                # SQLite may have rolled back already (disk full, I/O error): a second ROLLBACK would hide why.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error as exc:  # a connection busy in another thread closes when that thread lets go
                log.warning("closing a SQLite connection to %s failed: %s", self.path, exc)
