"""One SQLite file shared by threads and processes: a connection per thread, errors as BusUnavailable."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kcnguard.errors import BusUnavailable

log = logging.getLogger(__name__)


class SqliteFile:
    """Hands each thread its own connection (sqlite3 connections must not be shared between threads).

    Connections are made again after a fork: one inherited from a parent process would share
    its file locks, which SQLite forbids.
    """

    def __init__(self, path: Path, busy_timeout: float = 15.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def connection(self) -> sqlite3.Connection:
        if self._closed:
            raise BusUnavailable(f"embedded bus {self.path} is closed")
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = self._connect()
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _connect(self) -> sqlite3.Connection:
        with self.unavailable_as_error("opening"):
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
            # FULL: a committed publish or offset survives a power cut, which at-least-once relies on.
            conn.execute("PRAGMA synchronous=FULL")
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def unavailable_as_error(self, doing: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:  # locked, busy, disk I/O, disk full, cannot open
            raise BusUnavailable(f"embedded bus {self.path}: {doing} failed: {exc}") from exc

    @contextmanager
    def write(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock at once so reads inside it stay true."""
        conn = self.connection()
        with self.unavailable_as_error(doing):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        self._closed = True
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:  # a connection busy in another thread closes when that thread lets go
                log.debug("closing a connection to %s failed", self.path, exc_info=True)
