"""The audit log: append-only and hash-chained, appended to by every service that decides or moves a case.

Each entry's hash is SHA-256 over its canonical JSON (sorted keys, no spaces, UTF-8) with the
previous entry's hash inside, so altering, removing or reordering any entry breaks every hash
after it.

Appends are serialised by one head document (the newest seq and hash): a writer chains its entries
after the head it read, moves the head past them with a versioned write (a writer that lost the race
reads the new head and chains again), and only then writes the entries, all in one bulk write. So a
batch of any size costs the same few round trips, and no other writer's entry can land inside it.
The head keeps the batch until it is written: a writer that stopped in between leaves it there, and
the next one writes it before its own. Reads go by id (realtime on both backends), so the chain is
right even before Elasticsearch refreshes its search.

What this cannot show on its own: the newest entries being cut off the end. Anchoring the last
hash elsewhere (a daily report, a partner's copy) closes that.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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
    hash: str = Field(description="SHA-256 over this entry's canonical JSON, prev_hash included")


class Verification(BaseModel):
    ok: bool
    entries: int = Field(description="How many entries were checked")
    first_bad_seq: int | None = Field(description="The first entry that is altered, missing or out of chain")
    reason: str | None = None


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


def entry_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the entry without its own hash, in canonical JSON."""
    body = {k: v for k, v in fields.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    for _ in range(MAX_APPEND_ATTEMPTS):
        head = _read_head(store)
        _write_entries(store, head.body["pending"])
        entries = _chain(drafts, head.body["seq"], head.body["hash"])
        last = entries[-1]
        try:
            moved = store.docs.put(
                AUDIT_HEAD.name,
                HEAD_ID,
                {"seq": last["seq"], "hash": last["hash"], "pending": entries},
                if_version=head.version,
            )
        except ConflictError:
            continue  # another writer moved the head first: chain after theirs
        _write_entries(store, entries)
        with contextlib.suppress(ConflictError):  # else the next writer already moved on, past these entries
            store.docs.put(
                AUDIT_HEAD.name, HEAD_ID, {"seq": last["seq"], "hash": last["hash"], "pending": []}, moved.version
            )
        for entry in entries:
            log.info("audit %d: %s %s %s", entry["seq"], entry["actor"], entry["action"], entry["object"])
        return [AuditEntry.model_validate(e) for e in entries]
    raise ConflictError("the audit log kept moving under this writer")


def _chain(drafts: Sequence[Draft], seq: int, prev_hash: str) -> list[dict[str, Any]]:
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
        fields["hash"] = prev_hash = entry_hash(fields)
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


def _read_head(store: Store) -> Doc:
    head = store.docs.get(AUDIT_HEAD.name, HEAD_ID)
    if head is not None:
        return head
    # A log written before the head document existed (or an empty one): the head is its newest entry.
    seq, last_hash = _walk_to_end(store, _latest_by_search(store))
    try:
        return store.docs.put(AUDIT_HEAD.name, HEAD_ID, {"seq": seq, "hash": last_hash, "pending": []}, CREATE)
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
    """Walk the whole chain in seq order: every hash recomputed, every link and every seq checked."""
    store.docs.refresh(AUDIT.name)
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    while True:
        query = Query(ranges={"seq": (expected_seq, None)}, sort=[("seq", "asc")], size=VERIFY_BATCH)
        docs = store.docs.search(AUDIT.name, query).docs
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
