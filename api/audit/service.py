"""Appending to and checking the audit log.

Each entry's hash is SHA-256 over its canonical JSON (sorted keys, no spaces, UTF-8) with the
previous entry's hash inside, so altering, removing or reordering any entry breaks every hash
after it. Appends are serialised by the store itself: entry N is created with CREATE under the
id of its sequence number, so when two writers race for N exactly one wins and the other reads
the winner and tries N+1. Reads go by id (realtime on both backends), so the chain is right
even before Elasticsearch refreshes its search.

What this cannot show on its own: the newest entries being cut off the end. Anchoring the last
hash elsewhere (a daily report, a partner's copy) closes that; `verify` returns the head hash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from typing import Any

from api.audit.models import AuditEntry, Verification
from kcnguard.errors import ConflictError
from kcnguard.records.base import utcnow
from kcnguard.store import CREATE, Query, Store, schema
from kcnguard.store.checked import date_value

log = logging.getLogger(__name__)

GENESIS = "0" * 64
# Entries read per round trip when walking the chain.
VERIFY_BATCH = 1000
MAX_APPEND_ATTEMPTS = 1000

_head_lock = threading.Lock()
# The newest seq this process knows of per store; a hint only, the store decides.
_known_head: dict[int, int] = {}


def entry_id(seq: int) -> str:
    return f"{seq:012d}"


def entry_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the entry without its own hash, in canonical JSON."""
    body = {k: v for k, v in fields.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _latest_by_search(store: Store) -> int:
    page = store.docs.search(schema.AUDIT.name, Query(sort=[("seq", "desc")], size=1))
    return int(page.docs[0].body["seq"]) if page.docs else 0


def _walk_to_head(store: Store, start: int) -> tuple[int, str]:
    """The newest seq at or after `start` and its hash, following ids (search may lag writes)."""
    seq, prev_hash = start, GENESIS
    if seq:
        doc = store.docs.get(schema.AUDIT.name, entry_id(seq))
        if doc is None:  # the hint was wrong (another store, a reset): start from search
            return _walk_to_head(store, 0) if start else (0, GENESIS)
        prev_hash = doc.body["hash"]
    while True:
        nxt = store.docs.get(schema.AUDIT.name, entry_id(seq + 1))
        if nxt is None:
            return seq, prev_hash
        seq, prev_hash = seq + 1, nxt.body["hash"]


def append(
    store: Store,
    actor: str,
    action: str,
    obj: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> AuditEntry:
    """Add one entry at the end of the chain; safe against concurrent appends from any process."""
    with _head_lock:
        hint = _known_head.get(id(store))
    start = hint if hint is not None else _latest_by_search(store)
    seq, prev_hash = _walk_to_head(store, start)
    for _ in range(MAX_APPEND_ATTEMPTS):
        fields: dict[str, Any] = {
            "seq": seq + 1,
            "at": date_value(utcnow()),
            "actor": actor,
            "action": action,
            "object": obj,
            "before": before,
            "after": after,
            "note": note,
            "prev_hash": prev_hash,
        }
        fields["hash"] = entry_hash(fields)
        try:
            store.docs.put(schema.AUDIT.name, entry_id(seq + 1), fields, if_version=CREATE)
        except ConflictError:
            # Someone else took this seq: chain after theirs.
            seq, prev_hash = _walk_to_head(store, seq + 1)
            continue
        with _head_lock:
            _known_head[id(store)] = seq + 1
        log.info("audit %d: %s %s %s", seq + 1, actor, action, obj)
        return AuditEntry.model_validate(fields)
    raise ConflictError("the audit log kept moving under this writer")


def list_entries(
    store: Store,
    limit: int,
    offset: int,
    actor: str | None = None,
    action: str | None = None,
    obj: str | None = None,
) -> tuple[list[AuditEntry], int]:
    """Newest first."""
    filters = {k: v for k, v in (("actor", actor), ("action", action), ("object", obj)) if v}
    query = Query(filters=filters, sort=[("seq", "desc")], size=limit, offset=offset)
    page = store.docs.search(schema.AUDIT.name, query)
    return [AuditEntry.model_validate(d.body) for d in page.docs], page.total


def verify(store: Store) -> Verification:
    """Walk the whole chain in seq order: every hash recomputed, every link and every seq checked."""
    store.docs.refresh(schema.AUDIT.name)
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    while True:
        query = Query(ranges={"seq": (expected_seq, None)}, sort=[("seq", "asc")], size=VERIFY_BATCH)
        docs = store.docs.search(schema.AUDIT.name, query).docs
        if not docs:
            return Verification(ok=True, entries=checked, first_bad_seq=None)
        for doc in docs:
            body = doc.body
            seq = body.get("seq")
            if seq != expected_seq or doc.id != entry_id(expected_seq):
                return _bad(checked, expected_seq, f"entry {expected_seq} is missing (found {seq} next)")
            if body.get("prev_hash") != prev_hash:
                return _bad(checked, seq, "its prev_hash does not match the entry before it")
            if entry_hash(body) != body.get("hash"):
                return _bad(checked, seq, "its content does not match its hash (altered)")
            prev_hash, expected_seq, checked = body["hash"], expected_seq + 1, checked + 1


def _bad(checked: int, seq: int, reason: str) -> Verification:
    log.warning("audit log verification failed at %d: %s", seq, reason)
    return Verification(ok=False, entries=checked, first_bad_seq=seq, reason=reason)
