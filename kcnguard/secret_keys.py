"""The deployment's own secrets: how strong they must be, and the secret key every service shares.

KCNGUARD_SECRET_KEY encrypts webhook signing secrets at rest (kcnguard/webhooks/sealing.py) and signs the
partner API's cursors. The API and the webhook service must hold the same one. Outside the embedded
set-up it must be given; with the embedded store (one machine, one data dir) a missing one is made once
and kept in the data dir, readable by its owner only, as `kcnguard run` does for the admin key.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from kcnguard.settings import Settings

log = logging.getLogger(__name__)

MIN_LENGTH = 24
MIN_DISTINCT = 8
SECRET_KEY_FILE = "secret-key"


class WeakSecret(ValueError):
    """A secret setting that would be easy to guess; the message names the setting and says what to do."""


def weakness(value: str) -> str | None:
    """Why `value` is too weak to guard the deployment, or None when it is not."""
    if len(value) < MIN_LENGTH:
        return f"{len(value)} characters, at least {MIN_LENGTH} needed"
    if len(set(value)) < MIN_DISTINCT:
        return f"only {len(set(value))} different characters, at least {MIN_DISTINCT} needed"
    for period in range(1, len(value) // 2 + 1):
        if value == (value[:period] * (len(value) // period + 1))[: len(value)]:
            return f"the same {period} characters repeated"
    return None


def require_strong(value: str, setting: str) -> None:
    reason = weakness(value)
    if reason:
        raise WeakSecret(
            f"{setting} quá yếu ({reason}); hãy dùng một chuỗi ngẫu nhiên dài, ví dụ: "
            f"python -c 'import secrets; print(secrets.token_urlsafe(32))'.\n"
            f"{setting} is too weak ({reason}); use a long random string, e.g. "
            f"python -c 'import secrets; print(secrets.token_urlsafe(32))'."
        )


def is_embedded(settings: Settings) -> bool:
    return settings.store_url.startswith("sqlite:")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def keep_in_file(path: Path, make: Callable[[], str] = new_secret) -> str:
    """The secret in `path`, made by `make` when absent: created exclusively and owner-only from the start,
    so no other user can read it at any moment and processes racing to make it end up with the same one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(make() + "\n")
        log.info("made a new secret key in %s", path)
    for _ in range(100):
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
        time.sleep(0.01)  # another process made the file and is still writing it
    raise RuntimeError(f"the secret file {path} is empty: delete it, or set the setting it stands for")


def secret_key(settings: Settings) -> str:
    """KCNGUARD_SECRET_KEY, checked; with the embedded store and none set, the data dir's own."""
    if settings.secret_key:
        require_strong(settings.secret_key, "KCNGUARD_SECRET_KEY")
        return settings.secret_key
    if not is_embedded(settings):
        raise WeakSecret(
            "Thiếu KCNGUARD_SECRET_KEY: bắt buộc khi không dùng kho nhúng (khóa mã hóa bí mật webhook).\n"
            "KCNGUARD_SECRET_KEY is missing: it is required outside the embedded store (it encrypts webhook secrets)."
        )
    return keep_in_file(settings.data_dir / SECRET_KEY_FILE)
