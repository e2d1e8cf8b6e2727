"""The key the audit chain is signed with: the deployment's secret key (kcnguard.secret_keys).

The key must live apart from the store: whoever can write the store but not read the key can
neither edit an entry and re-sign the ones after it, nor move the head back over dropped entries.
On one host (the embedded defaults) every process shares the data dir and so the key made there;
a distributed deployment sets KCNGUARD_SECRET_KEY for every process that writes or verifies the log.
"""

from __future__ import annotations

from functools import lru_cache

from kcnguard.secret_keys import secret_key
from kcnguard.settings import Settings, get_settings


def audit_key() -> bytes:
    """The key for the settings in force (cached per setting, store and data dir)."""
    settings = get_settings()
    return _resolve(settings.secret_key, settings.store_url, str(settings.data_dir.resolve()))


@lru_cache(maxsize=8)
def _resolve(key: str, store_url: str, data_dir: str) -> bytes:
    return secret_key(Settings(secret_key=key, store_url=store_url, data_dir=data_dir)).encode()
