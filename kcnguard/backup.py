"""Backups of the embedded defaults: the SQLite store, the SQLite bus, local evidence and the models.

The two SQLite files are copied with SQLite's online backup, page by page inside read
transactions, so services may keep writing: the copy is the database as of one instant, never a
torn file (a plain file copy of a WAL database can be). Evidence files and model artifacts are
content-addressed or written once, so copying them live is safe. A manifest with the SHA-256 of
every file is written last: a folder without one is an unfinished backup and is refused.

Restore checks every digest before it touches anything, then writes each database back with the
same online backup, so a running process sees the restored content at its next read. Kafka and
Elasticsearch keep their own backups (the README's snapshot steps); this refuses them by name.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from kcnguard.bus import embedded_bus_file
from kcnguard.evidence import file_digest, local_evidence_folder
from kcnguard.settings import Settings
from kcnguard.store import sqlite_store_file

MANIFEST = "manifest.json"
FORMAT = 1
# Pages copied per step: small steps let the services' writers in between.
PAGES_PER_STEP = 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says what to do."""


@dataclass(frozen=True)
class Part:
    """One thing a backup holds: a database file or a folder, and where it lives on this system."""

    name: str
    path: Path
    kind: str  # "sqlite" or "folder"


def parts(settings: Settings) -> list[Part]:
    store_scheme = urlparse(settings.store_url).scheme
    bus_scheme = urlparse(settings.bus_url).scheme
    if store_scheme != "sqlite" or bus_scheme != "embedded":
        raise BackupError(
            "Sao lưu này chỉ dành cho cấu hình nhúng (sqlite:// và embedded://); Kafka và Elasticsearch "
            "dùng công cụ sao lưu riêng (xem README). / This backup is for the embedded defaults only "
            f"(store {store_scheme}://, bus {bus_scheme}://): use Elasticsearch snapshots and Kafka's own "
            "replication (see the README)."
        )
    data, ns = settings.data_dir, settings.namespace
    found = [
        Part("store.sqlite3", sqlite_store_file(settings.store_url, ns, data), "sqlite"),
        Part("bus.sqlite3", embedded_bus_file(settings.bus_url, ns, data), "sqlite"),
        Part("models", data / "models", "folder"),
    ]
    evidence = local_evidence_folder(settings)
    # s3:// evidence lives in its bucket, versioned or replicated there: not this backup's to copy.
    if evidence is not None:
        found.append(Part("evidence", evidence, "folder"))
    return found


def _copy_database(source: Path, target: Path) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=PAGES_PER_STEP)
        # A copy in rollback-journal mode is one self-contained file: reading it makes no -wal or -shm beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def _files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith(".tmp-"):
            yield path


def backup(settings: Settings, into: Path, now: datetime | None = None) -> Path:
    """Write a backup folder under `into` and return it."""
    chosen = parts(settings)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(into) / f"kcnguard-{settings.namespace}-{stamp}"
    try:
        folder.mkdir(parents=True)
    except FileExistsError:
        raise BackupError(f"{folder} đã có / already exists: choose another folder or wait a second") from None
    for part in chosen:
        target = folder / part.name
        if part.kind == "sqlite":
            if part.path.exists():
                _copy_database(part.path, target)
        elif part.path.is_dir():
            for path in _files(part.path):
                copy = target / path.relative_to(part.path)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, copy)
    files = {str(p.relative_to(folder)): {"sha256": file_digest(p), "bytes": p.stat().st_size} for p in _files(folder)}
    manifest = {
        "format": FORMAT,
        "created_at": stamp,
        "namespace": settings.namespace,
        "parts": [p.name for p in chosen],
        "files": files,
    }
    tmp = folder / f".tmp-{MANIFEST}"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)
    return folder


def verify(folder: Path) -> list[str]:
    """What is wrong with a backup folder; empty when every file is there with its digest."""
    manifest_path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files: dict[str, dict[str, object]] = manifest["files"]
    except FileNotFoundError:
        return [f"{manifest_path}: không có / missing (an unfinished backup)"]
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{manifest_path}: unreadable: {exc}"]
    problems = []
    for name, entry in sorted(files.items()):
        path = Path(folder) / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif file_digest(path) != entry.get("sha256"):
            problems.append(f"{name}: SHA-256 differs from the manifest (changed or damaged)")
    extra = {str(p.relative_to(folder)) for p in _files(Path(folder))} - set(files) - {MANIFEST}
    problems += [f"{name}: not in the manifest" for name in sorted(extra)]
    return problems


def restore(settings: Settings, folder: Path) -> list[str]:
    """Put a verified backup back; returns what was restored. Running services see it at their next read."""
    problems = verify(folder)
    if problems:
        raise BackupError("bản sao lưu không toàn vẹn / the backup is not intact: " + "; ".join(problems[:5]))
    restored = []
    for part in parts(settings):
        source = Path(folder) / part.name
        if part.kind == "sqlite":
            if not source.is_file():
                continue
            part.path.parent.mkdir(parents=True, exist_ok=True)
            _restore_database(source, part.path)
            restored.append(part.name)
        elif source.is_dir():
            for path in _files(source):
                target = part.path / path.relative_to(source)
                if target.is_file() and file_digest(target) == file_digest(path):
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".tmp-{target.name}")
                shutil.copy2(path, tmp)
                os.replace(tmp, target)
            restored.append(part.name)
    return restored


def _restore_database(source: Path, target: Path) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target, timeout=30)
    try:
        # In one step: the target is locked while it is replaced, so no reader sees half of each.
        src.backup(dst)
    finally:
        dst.close()
        src.close()
