"""A service process whose disk is full while a marker file exists: `python -m bench.faults.full_disk MARKER SERVICE`.

The disk cannot be filled for real here (no tmpfs), so the calls a full disk breaks raise what it
raises: SQLite's "database or disk is full" for every write transaction on the embedded files, and
ENOSPC for writing the model. Remove the marker and the "disk" has room again.
"""

from __future__ import annotations

import errno
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def install(marker: Path) -> None:
    import classifier.service
    from kcnguard.sqlite_file import SqliteFile

    write = SqliteFile.write

    @contextmanager
    def full_write(self: SqliteFile, doing: str) -> Iterator[sqlite3.Connection]:
        if marker.exists():
            with self.unavailable_as_error(doing):
                raise sqlite3.OperationalError("database or disk is full")
        with write(self, doing) as conn:
            yield conn

    load_model = classifier.service.load_model

    def full_load_model(*args: object, **kwargs: object) -> object:
        if marker.exists():
            raise OSError(errno.ENOSPC, "No space left on device", "models/current")
        return load_model(*args, **kwargs)  # type: ignore[arg-type]

    SqliteFile.write = full_write  # type: ignore[method-assign]
    classifier.service.load_model = full_load_model  # type: ignore[assignment]


def main(argv: list[str]) -> int:
    marker, *command = argv
    install(Path(marker))
    from launcher.cli import main as kcnguard

    return kcnguard(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
