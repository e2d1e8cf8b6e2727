"""Password hashes for people: scrypt (memory-hard, in the standard library), salted, self-describing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# 2**14 x 8 x 1: about 16 MiB and some tens of milliseconds per check, OWASP's scrypt baseline.
N, R, P = 2**14, 8, 1
DKLEN = 32
MIN_LENGTH = 10
MAX_LENGTH = 256  # past this, hashing a "password" is only a way to burn the server's time


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def password_problem(password: str) -> str | None:
    """Why a password cannot be used, in English, or None when it can."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password may have at most {MAX_LENGTH} characters"
    if password.strip() != password:
        return "a password may not start or end with spaces"
    return None


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=DKLEN, maxmem=64 * 1024 * 1024)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches; the parameters come from the stored hash, so they can be raised later."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode()[: MAX_LENGTH * 4],
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=64 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


# Checked against when the user does not exist, so a wrong username takes as long as a wrong password.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
