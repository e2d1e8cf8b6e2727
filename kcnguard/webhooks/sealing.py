"""Webhook signing secrets at rest: sealed with AES-GCM under a key derived from KCNGUARD_SECRET_KEY.

Signing needs the secret itself, so it cannot be stored as a hash; sealed, a copy of the store (a backup,
a snapshot, a leaked index) yields nothing without the secret key, and the agency is bound in as
associated data so a sealed secret moved to another agency's record does not open. A secret stored before
sealing existed (no prefix) is still read as it is, and sealed the next time it is written.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "sealed:v1:"
_INFO = b"kcnguard webhook secrets v1"
_NONCE_BYTES = 12


class SealBroken(ValueError):
    """A sealed secret that does not open with this key: another KCNGUARD_SECRET_KEY, or tampered with."""


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


class Sealer:
    def __init__(self, secret_key: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret_key.encode())
        self._aead = AESGCM(derived)

    def seal(self, plain: str, agency: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plain.encode(), agency.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, stored: str, agency: str) -> str:
        if not is_sealed(stored):
            return stored
        raw = base64.urlsafe_b64decode(stored[len(PREFIX) :].encode())
        try:
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], agency.encode()).decode()
        except InvalidTag:
            raise SealBroken(
                f"the webhook secret of agency {agency!r} does not open with this KCNGUARD_SECRET_KEY"
            ) from None
