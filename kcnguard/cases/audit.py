"""The audit log: append-only and hash-chained with a secret key, appended to by every service that decides or
moves a case or changes what the Board administers.

Each entry's hash is HMAC-SHA256, keyed with KCNGUARD_SECRET_KEY (kcnguard.cases.audit_key), over its
canonical JSON (sorted keys, no spaces, UTF-8) with the previous entry's hash inside, so altering,
removing or reordering any entry breaks every hash after it, and nobody without the key can compute
them again. Entries written before the chain was keyed carry plain SHA-256 hashes; the head records the
first keyed seq (`keyed_from`) and those older entries still verify in the old format, unchanged, so
hashes anyone anchored before still match.

Appends are serialised by one head document (the newest seq and hash): a writer chains its entries
after the head it read, moves the head past them with a versioned write (a writer that lost the race
reads the new head and chains again), and only then writes the entries, all in one bulk write. So a
batch of any size costs the same few round trips, and no other writer's entry can land inside it.
The head keeps the batch until it is written: a writer that stopped in between leaves it there, and
the next one writes it before its own. Reads go by id (realtime on both backends), so the chain is
right even before Elasticsearch refreshes its search.

The head is signed too (`mac` over seq, hash and keyed_from), so dropping the newest entries is caught:
the head still names a seq beyond the last entry, and it cannot be moved back without the key.
`verify` returns the head; an outside party that keeps it (a partner, a daily report) can later tell
whether the log still reaches it. What the key alone cannot catch: the store and the key both taken,
or the whole log swapped for an unkeyed one with its head deleted; the outside copy of the head can.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kcnguard.cases.audit_key import audit_key
from kcnguard.cases.collections import AUDIT, AUDIT_HEAD
from kcnguard.errors import ConflictError
from kcnguard.records.base import utcnow
from kcnguard.store import CREATE, Doc, Query, Store, Write
from kcnguard.store.checked import date_value

log = logging.getLogger(__name__)

GENESIS = "0" * 64
HEAD_ID = "head"
# Entries read per round trip when walking the chain.
VERIFY_BATCH = 1000
MAX_APPEND_ATTEMPTS = 1000


class AuditEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=1, description="1, 2, 3, ... with no gaps")
    at: str = Field(description="UTC, ISO 8601 with milliseconds")
    actor: str = Field(description="role:name of who did it")
    action: str = Field(description="e.g. review.confirm, case.transition, case.refer")
    object: str = Field(description="What it was done to, e.g. case:case-…")
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    note: str | None = None
    prev_hash: str = Field(description="The previous entry's hash; 64 zeros for the first")
    hash: str = Field(
        description="HMAC-SHA256 (keyed) over this entry's canonical JSON, prev_hash included; "
        "plain SHA-256 for entries before the head's keyed_from"
    )


class AuditHead(BaseModel):
    """The newest entry as the signed head names it: keep it elsewhere to anchor the log."""

    seq: int = Field(ge=0, description="The newest entry's seq (0: empty log)")
    hash: str = Field(description="The newest entry's hash")
    keyed_from: int = Field(ge=1, description="The first seq whose hash is keyed; older ones are plain SHA-256")
    mac: str = Field(description="HMAC-SHA256 of seq, hash and keyed_from with the audit key")


class Verification(BaseModel):
    ok: bool
    entries: int = Field(description="How many entries were checked")
    first_bad_seq: int | None = Field(description="The first entry that is altered, missing or out of chain")
    reason: str | None = None
    head: AuditHead | None = Field(default=None, description="The signed head the chain was checked against")


@dataclass(frozen=True)
class Draft:
    """An entry before it has a place in the chain."""

    actor: str
    action: str
    object: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    note: str | None = None


def entry_id(seq: int) -> str:
    return f"{seq:012d}"


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def entry_hash(fields: dict[str, Any], key: bytes | None) -> str:
    """HMAC-SHA256 with `key` over the entry without its own hash, in canonical JSON; None: the unkeyed
    SHA-256 of entries written before the chain was keyed."""
    canonical = _canonical({k: v for k, v in fields.items() if k != "hash"})
    if key is None:
        return hashlib.sha256(canonical).hexdigest()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def head_mac(seq: int, last_hash: str, keyed_from: int, key: bytes) -> str:
    signed = _canonical({"seq": seq, "hash": last_hash, "keyed_from": keyed_from})
    return hmac.new(key, signed, hashlib.sha256).hexdigest()


def _head_body(seq: int, last_hash: str, keyed_from: int, pending: list[dict[str, Any]], key: bytes) -> dict[str, Any]:
    mac = head_mac(seq, last_hash, keyed_from, key)
    return {"seq": seq, "hash": last_hash, "keyed_from": keyed_from, "mac": mac, "pending": pending}


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
    (entry,) = append_many(store, [Draft(actor, action, obj, before, after, note)])
    return entry


def append_many(store: Store, drafts: Sequence[Draft]) -> list[AuditEntry]:
    """Add entries at the end of the chain, in order and unbroken by any other writer's, in one bulk write."""
    if not drafts:
        return []
    key = audit_key()
    for _ in range(MAX_APPEND_ATTEMPTS):
        head = _read_head(store, key)
        _write_entries(store, head.body["pending"])
        entries = _chain(drafts, head.body["seq"], head.body["hash"], key)
        last, keyed_from = entries[-1], head.body["keyed_from"]
        try:
            moved = store.docs.put(
                AUDIT_HEAD.name,
                HEAD_ID,
                _head_body(last["seq"], last["hash"], keyed_from, entries, key),
                if_version=head.version,
            )
        except ConflictError:
            continue  # another writer moved the head first: chain after theirs
        _write_entries(store, entries)
        with contextlib.suppress(ConflictError):  # else the next writer already moved on, past these entries
            store.docs.put(
                AUDIT_HEAD.name, HEAD_ID, _head_body(last["seq"], last["hash"], keyed_from, [], key), moved.version
            )
        for entry in entries:
            log.info("audit %d: %s %s %s", entry["seq"], entry["actor"], entry["action"], entry["object"])
        return [AuditEntry.model_validate(e) for e in entries]
    raise ConflictError("the audit log kept moving under this writer")


def _chain(drafts: Sequence[Draft], seq: int, prev_hash: str, key: bytes) -> list[dict[str, Any]]:
    at = date_value(utcnow())
    entries = []
    for draft in drafts:
        seq += 1
        fields: dict[str, Any] = {
            "seq": seq,
            "at": at,
            "actor": draft.actor,
            "action": draft.action,
            "object": draft.object,
            "before": draft.before,
            "after": draft.after,
            "note": draft.note,
            "prev_hash": prev_hash,
        }
        fields["hash"] = prev_hash = entry_hash(fields, key)
        entries.append(fields)
    return entries


def _write_entries(store: Store, entries: list[dict[str, Any]]) -> None:
    """Write chained entries; one already there was written by the writer that chained it, or by a helper."""
    if not entries:
        return
    writes = [Write(entry_id(e["seq"]), e, CREATE) for e in entries]
    failed = [r for r in store.docs.bulk_write(AUDIT.name, writes) if not r.ok and not r.conflict]
    if failed:
        raise RuntimeError(f"{len(failed)} audit entries not written, first {failed[0].id}: {failed[0].error}")


def _read_head(store: Store, key: bytes) -> Doc:
    head = store.docs.get(AUDIT_HEAD.name, HEAD_ID)
    if head is not None and "mac" in head.body:
        return head
    if head is not None:
        # A head from before the chain was keyed: sign it once; every entry after it is keyed. A lost race
        # means another writer signed it first.
        body = head.body
        signed = _head_body(body["seq"], body["hash"], body["seq"] + 1, body["pending"], key)
        with contextlib.suppress(ConflictError):
            store.docs.put(AUDIT_HEAD.name, HEAD_ID, signed, if_version=head.version)
        return _read_head(store, key)
    # A log written before the head document existed (or an empty one): the head is its newest entry.
    seq, last_hash = _walk_to_end(store, _latest_by_search(store))
    try:
        return store.docs.put(AUDIT_HEAD.name, HEAD_ID, _head_body(seq, last_hash, seq + 1, [], key), CREATE)
    except ConflictError:
        made = store.docs.get(AUDIT_HEAD.name, HEAD_ID)
        if made is None:
            raise
        return made


def _latest_by_search(store: Store) -> int:
    page = store.docs.search(AUDIT.name, Query(sort=[("seq", "desc")], size=1))
    return int(page.docs[0].body["seq"]) if page.docs else 0


def _walk_to_end(store: Store, start: int) -> tuple[int, str]:
    """The newest seq at or after `start` and its hash, following ids (search may lag writes)."""
    seq, prev_hash = start, GENESIS
    if seq:
        doc = store.docs.get(AUDIT.name, entry_id(seq))
        if doc is None:  # search named an entry that is not there (a reset): walk from the start
            return _walk_to_end(store, 0)
        prev_hash = doc.body["hash"]
    while True:
        nxt = store.docs.get(AUDIT.name, entry_id(seq + 1))
        if nxt is None:
            return seq, prev_hash
        seq, prev_hash = seq + 1, nxt.body["hash"]


def has_entry(store: Store, obj: str, version: str) -> bool:
    """Whether the log already has an entry leaving `obj` at `version` (a change made once, retried)."""
    head = store.docs.get(AUDIT_HEAD.name, HEAD_ID)
    pending = head.body.get("pending", []) if head else []
    if any(e["object"] == obj and (e.get("after") or {}).get("version") == version for e in pending):
        return True
    store.docs.refresh(AUDIT.name)
    query = Query(filters={"object": obj}, sort=[("seq", "desc")], size=1)
    newest = store.docs.search(AUDIT.name, query).docs
    return bool(newest) and (newest[0].body.get("after") or {}).get("version") == version


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
    page = store.docs.search(AUDIT.name, query)
    return [AuditEntry.model_validate(d.body) for d in page.docs], page.total


def verify(store: Store) -> Verification:
    """Walk the whole chain in seq order: every hash recomputed, every link and every seq checked, up to the
    signed head at least (entries appended meanwhile are checked too)."""
    key = audit_key()
    stored = store.docs.get(AUDIT_HEAD.name, HEAD_ID)
    if stored is not None and "mac" not in stored.body:
        stored = _read_head(store, key)  # the first check after the upgrade signs the old head
    head = _checked_head(stored, key)
    if isinstance(head, Verification):
        return head
    if stored is not None:
        _write_entries(store, stored.body["pending"])  # a writer stopped between moving the head and writing
    store.docs.refresh(AUDIT.name)
    keyed_from = head.keyed_from if head else 1
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    while True:
        query = Query(ranges={"seq": (expected_seq, None)}, sort=[("seq", "asc")], size=VERIFY_BATCH)
        docs = store.docs.search(AUDIT.name, query).docs
        if not docs:
            break
        for doc in docs:
            body = doc.body
            seq = body.get("seq")
            if seq != expected_seq or doc.id != entry_id(expected_seq):
                return _bad(checked, expected_seq, f"entry {expected_seq} is missing (found {seq} next)", head)
            if body.get("prev_hash") != prev_hash:
                return _bad(checked, seq, "its prev_hash does not match the entry before it", head)
            if entry_hash(body, key if seq >= keyed_from else None) != body.get("hash"):
                return _bad(checked, seq, "its content does not match its hash (altered)", head)
            if head is not None and seq == head.seq and body["hash"] != head.hash:
                return _bad(checked, seq, "it is not the entry the signed head names (replaced)", head)
            prev_hash, expected_seq, checked = body["hash"], expected_seq + 1, checked + 1
    if head is None and checked:
        return _bad(checked, 1, "the head document is missing: the log cannot show it is whole", head)
    if head is not None and checked < head.seq:
        return _bad(checked, checked + 1, f"entries {checked + 1} to {head.seq} are missing (cut off the end)", head)
    return Verification(ok=True, entries=checked, first_bad_seq=None, head=head)


def _checked_head(stored: Doc | None, key: bytes) -> AuditHead | Verification | None:
    """The signed head, or the failed verification when its signature does not match."""
    if stored is None:
        return None
    body = stored.body
    head = AuditHead(seq=body["seq"], hash=body["hash"], keyed_from=body["keyed_from"], mac=body["mac"])
    if not hmac.compare_digest(head_mac(head.seq, head.hash, head.keyed_from, key), head.mac):
        return _bad(0, head.seq, "the head's signature does not match (altered, or another KCNGUARD_SECRET_KEY)", head)
    return head


def _bad(checked: int, seq: int, reason: str, head: AuditHead | None) -> Verification:
    log.warning("audit log verification failed at %d: %s", seq, reason)
    return Verification(ok=False, entries=checked, first_bad_seq=seq, reason=reason, head=head)
