"""The opaque cursor of the partner pull: where a partner's reading of its cases has got to.

A cursor holds the position (updated_at at millisecond precision, as both backends compare it,
and the case id that breaks ties) of the last case returned. Pages are keyset pages: the next
one starts strictly after that position, so a case changed while a partner pages moves to the
end and is seen again, and no case is ever skipped. The cursor carries an HMAC bound to the
agency, so a tampered or another agency's cursor is refused with a clear 400 rather than read;
tenancy never rests on it (every query is narrowed to the caller's agency anyway).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from api.problems import Problem
from kcnguard.store.checked import date_value

CURSOR_VERSION = 1
MAX_CURSOR_LENGTH = 600


@dataclass(frozen=True, order=True)
class Position:
    updated_at: str  # checked.date_value form: UTC, milliseconds, Z
    case_id: str


def _mac(secret: str, agency: str, payload: bytes) -> str:
    key = hashlib.sha256(f"kcnguard-partner-cursor|{secret}|{agency}".encode()).digest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()[:32]


def encode(position: Position, agency: str, secret: str) -> str:
    payload = json.dumps([CURSOR_VERSION, position.updated_at, position.case_id], separators=(",", ":")).encode()
    token = json.dumps({"p": payload.decode(), "m": _mac(secret, agency, payload)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def bad_cursor(why: str) -> Problem:
    return Problem(
        400,
        "bad-cursor",
        f"Con trỏ phân trang không hợp lệ ({why}); hãy dùng đúng giá trị next_cursor đã nhận, hoặc bỏ cursor.",
        f"The paging cursor is not valid ({why}); send back the next_cursor you received as is, or leave it out.",
    )


def decode(cursor: str, agency: str, secret: str) -> Position:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise bad_cursor("too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        token = json.loads(raw)
        payload = token["p"].encode()
        mac = token["m"]
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError):
        raise bad_cursor("not a cursor of this API") from None
    if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(secret, agency, payload)):
        raise bad_cursor("signature does not match")
    try:
        version, updated_at, case_id = json.loads(payload)
        if version != CURSOR_VERSION or not isinstance(case_id, str) or date_value(updated_at) != updated_at:
            raise ValueError
    except (ValueError, TypeError):
        raise bad_cursor("unknown format") from None
    return Position(updated_at, case_id)
