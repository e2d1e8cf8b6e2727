"""The key the audit chain is signed with: KCNGUARD_SECRET_KEY, else a random key kept in the data dir.

The key must live apart from the store: whoever can write the store but not read the key can
neither edit an entry and re-sign the ones after it, nor move the head back over dropped entries.
On one host (the embedded defaults) every process shares the data dir and so the generated key;
a distributed deployment sets KCNGUARD_SECRET_KEY for every process that writes or verifies the log.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from functools import lru_cache
from pathlib import Path

from kcnguard.settings import get_settings

KEY_FILE = "secret-key"


def audit_key() -> bytes:
    """The key for the settings in force (cached per setting and data dir)."""
    settings = get_settings()
    return _resolve(settings.secret_key, str(settings.data_dir.resolve()))


@lru_cache(maxsize=8)
def _resolve(secret_key: str, data_dir: str) -> bytes:
    if secret_key:
        return secret_key.encode()
    return _key_file(Path(data_dir) / KEY_FILE)


def _key_file(path: Path) -> bytes:
    """Read the key, or make it once: created exclusively and readable by its owner only, so racing
    processes end up with the same key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    for _ in range(100):
        key = path.read_text().strip()
        if key:
            return key.encode()
        time.sleep(0.01)  # another process created the file and is writing it
    raise RuntimeError(f"the audit key file {path} is empty; delete it or set KCNGUARD_SECRET_KEY")
