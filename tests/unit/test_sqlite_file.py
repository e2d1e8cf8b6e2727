"""The embedded store's and bus's files are private to their owner from the moment they exist."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kcnguard.bus import open_bus
from kcnguard.store import open_store


def test_store_and_bus_files_are_created_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = open_store(f"sqlite://{tmp_path}/s.sqlite3", namespace="perm")
        store.setup()
        bus = open_bus(f"embedded://{tmp_path}/b.sqlite3", namespace="perm")
        bus.ensure_topics()
        made = sorted(p for p in tmp_path.iterdir() if p.is_file())
        assert {p.name for p in made} >= {"s.sqlite3", "s.sqlite3-wal", "b.sqlite3", "b.sqlite3-wal"}
        for path in made:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
        store.close()
        bus.close()
    finally:
        os.umask(old)


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    path.touch(mode=0o640)
    os.chmod(path, 0o640)
    store = open_store(f"sqlite://{path}", namespace="perm")
    store.setup()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    store.close()
