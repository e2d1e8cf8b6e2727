"""API keys as stored: by the key's SHA-256 (never the key), with the role and scopes it grants."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kcnguard.store.schema import Collection, Kind, searchable

API_KEYS = Collection("api_keys", {"role": searchable("role", Kind.KEYWORD), "name": searchable("name", Kind.KEYWORD)})


@dataclass(frozen=True)
class ApiKey:
    key_hash: str
    name: str
    role: str
    scopes: list[str]
    owner_id: str | None
    created_at: str
    revoked_at: str | None = None
    revoked_by: str | None = None


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
