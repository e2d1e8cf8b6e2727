"""How a delivery is signed, and how a partner checks it.

X-KCNGuard-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>, with
X-KCNGuard-Timestamp (Unix seconds) and X-KCNGuard-Event-Id (the partner's dedupe key).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-KCNGuard-Signature"
TIMESTAMP_HEADER = "X-KCNGuard-Timestamp"
EVENT_HEADER = "X-KCNGuard-Event-Id"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a partner runs on its side (kept here for tests and as the reference)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
