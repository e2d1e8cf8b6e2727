"""Workers touch their heartbeat file on every loop, and a broken file never stops them."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from kcnguard.bus import open_bus
from kcnguard.bus.worker import RecordWorker
from kcnguard.heartbeat import Heartbeat
from kcnguard.topics import RAW_LISTINGS


def test_beat_touches_the_file_at_most_every_so_often(tmp_path: Path) -> None:
    path = tmp_path / "beat"
    heartbeat = Heartbeat(path, every_seconds=60)
    heartbeat.beat()
    assert path.exists()
    os.utime(path, (1, 1))
    heartbeat.beat()  # within the minute: not touched again
    assert path.stat().st_mtime == 1
    Heartbeat(path, every_seconds=0).beat()
    assert time.time() - path.stat().st_mtime < 60


def test_no_path_means_no_file_and_an_unwritable_one_is_only_logged(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    Heartbeat(None).beat()
    assert list(tmp_path.iterdir()) == []
    Heartbeat(tmp_path / "missing-dir" / "beat").beat()
    assert "not touched" in caplog.text


def test_an_idle_worker_keeps_beating(tmp_path: Path) -> None:
    path = tmp_path / "beat"
    stop = threading.Event()
    with open_bus(f"embedded://{tmp_path}/bus.sqlite3", namespace="hb") as bus:
        bus.ensure_topics([RAW_LISTINGS])
        worker = RecordWorker(
            bus,
            "hb",
            RAW_LISTINGS,
            lambda records: None,
            poll_seconds=0.05,
            stop=stop,
            heartbeat=Heartbeat(path, every_seconds=0),
        )
        thread = threading.Thread(target=worker.run)
        thread.start()
        try:
            deadline = time.monotonic() + 10
            while not path.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            assert path.exists()
            os.utime(path, (1, 1))
            while path.stat().st_mtime == 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert path.stat().st_mtime > 1, "an idle worker stopped touching its heartbeat"
        finally:
            stop.set()
            thread.join(10)
