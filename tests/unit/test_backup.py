"""Backups of the embedded store and bus: taken while services write, verified, restored bit for bit."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from kcnguard.backup import MANIFEST, BackupError, backup, restore, verify
from kcnguard.bus import open_bus
from kcnguard.evidence import open_evidence
from kcnguard.records import Brand
from kcnguard.settings import Settings
from kcnguard.store import open_store
from kcnguard.topics import RAW_LISTINGS


def _settings(root: Path) -> Settings:
    return Settings(
        data_dir=root,
        store_url=f"sqlite:///{root}/store.sqlite3",
        bus_url=f"embedded://{root}/bus.sqlite3",
        namespace="bk",
    )


def _brand(n: int) -> Brand:
    return Brand.model_validate(
        {"brand_id": f"brand-{n}", "name": f"Nhãn {n}", "owner_id": "acme", "owner_name": "Công ty Acme"}
    )


def _count_brands(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE name LIKE '%brands'")]
        return conn.execute(f"SELECT count(*) FROM {tables[0]}").fetchone()[0]
    finally:
        conn.close()


def _db_bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in ("store.sqlite3", "bus.sqlite3")}


def test_a_backup_taken_while_writing_restores_bit_for_bit_into_the_live_system(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "live")
    store = open_store(settings.store_url, namespace="bk")
    store.setup()
    bus = open_bus(settings.bus_url, namespace="bk")
    bus.ensure_topics([RAW_LISTINGS])
    digest = open_evidence(settings).put(b"<html>trang bang chung</html>")
    for n in range(50):
        store.put_brand(_brand(n))

    writing = threading.Event()
    stop = threading.Event()

    def writer() -> None:
        n = 1000
        while not stop.is_set():
            store.put_brand(_brand(n))
            bus.publish_many(RAW_LISTINGS, [(str(n).encode(), b"{}")])
            bus.flush()
            writing.set()
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    writing.wait(10)
    try:
        first = backup(settings, tmp_path / "backups")
    finally:
        stop.set()
        thread.join(10)
    assert verify(first) == []
    at_backup = _count_brands(first / "store.sqlite3")
    assert at_backup >= 51
    assert (first / "evidence").is_dir() and any((first / "evidence").rglob(f"{digest}.gz"))

    # The system goes on, then the backup is restored while a reader holds the store open.
    for n in range(5000, 5100):
        store.put_brand(_brand(n))
    reader = open_store(settings.store_url, namespace="bk")
    assert _count_brands(tmp_path / "live" / "store.sqlite3") > at_backup
    assert restore(settings, first) == ["store.sqlite3", "bus.sqlite3", "evidence"]
    assert reader.get_brand("brand-5000") is None and reader.get_brand("brand-49") is not None
    assert _count_brands(tmp_path / "live" / "store.sqlite3") == at_backup

    again = backup(settings, tmp_path / "again")
    assert _db_bytes(again) == _db_bytes(first)
    for conn_path in (tmp_path / "live" / "store.sqlite3", tmp_path / "live" / "bus.sqlite3"):
        conn = sqlite3.connect(conn_path)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()
    reader.close()
    store.close()
    bus.close()


def test_a_changed_or_unfinished_backup_is_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "live")
    store = open_store(settings.store_url, namespace="bk")
    store.setup()
    store.put_brand(_brand(1))
    folder = backup(settings, tmp_path / "backups")
    damaged = folder / "store.sqlite3"
    data = bytearray(damaged.read_bytes())
    data[-100] ^= 1
    damaged.write_bytes(bytes(data))
    assert verify(folder) == ["store.sqlite3: SHA-256 differs from the manifest (changed or damaged)"]
    with pytest.raises(BackupError, match="not intact"):
        restore(settings, folder)
    (folder / MANIFEST).unlink()
    assert "missing" in verify(folder)[0]
    store.close()


def test_only_the_embedded_defaults_are_backed_up_here(tmp_path: Path) -> None:
    kafka = Settings(data_dir=tmp_path, bus_url="kafka://127.0.0.1:9", store_url="sqlite://")
    with pytest.raises(BackupError, match="Elasticsearch snapshots"):
        backup(kafka, tmp_path)


def test_the_manifest_names_every_file_with_its_digest(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "live")
    store = open_store(settings.store_url, namespace="bk")
    store.setup()
    folder = backup(settings, tmp_path / "b")
    manifest = json.loads((folder / MANIFEST).read_text())
    assert set(manifest["files"]) == {"store.sqlite3"}
    assert len(manifest["files"]["store.sqlite3"]["sha256"]) == 64
    store.close()


def test_the_commands_back_up_verify_and_restore(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from launcher.cli import main

    live = tmp_path / "live"
    monkeypatch.setenv("KCNGUARD_DATA_DIR", str(live))
    monkeypatch.setenv("KCNGUARD_STORE_URL", f"sqlite://{live}/store.sqlite3")
    monkeypatch.setenv("KCNGUARD_BUS_URL", f"embedded://{live}/bus.sqlite3")
    from kcnguard.settings import get_settings

    get_settings.cache_clear()
    store = open_store(f"sqlite://{live}/store.sqlite3", namespace="kcnguard")
    store.setup()
    store.put_brand(_brand(7))
    store.close()
    assert main(["backup", "--into", str(tmp_path / "saved")]) == 0
    folder = next((tmp_path / "saved").iterdir())
    assert main(["restore", str(folder), "--verify-only"]) == 0
    assert main(["restore", str(folder)]) == 0
    assert "store.sqlite3" in capsys.readouterr().out
    (folder / "store.sqlite3").write_bytes(b"hong")
    assert main(["restore", str(folder)]) == 1
    assert "SHA-256 differs" in capsys.readouterr().err
    get_settings.cache_clear()
