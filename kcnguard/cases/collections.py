"""The collections of the case flow: the audit log, its head, and the outbox of case events."""

from __future__ import annotations

from kcnguard.store.schema import Collection, Field, Kind

# The hash-chained, append-only log of decisions and case changes; the id is the zero-padded seq.
AUDIT = Collection(
    "audit",
    {
        "seq": Field("seq", Kind.INT),
        "at": Field("at", Kind.DATE),
        "actor": Field("actor", Kind.KEYWORD),
        "action": Field("action", Kind.KEYWORD),
        "object": Field("object", Kind.KEYWORD),
    },
)

# One document: the chain's newest seq and hash, and the entries of the batch that moved it there,
# so that a batch appended by a writer that stopped half-way is finished by the next one.
AUDIT_HEAD = Collection("audit_head", {})

# Case events the bus would not take yet; the API's publisher sends them when it is back.
OUTBOX = Collection("outbox", {"queued_at": Field("queued_at", Kind.DATE)})

# A case change about to be made, kept until all its writes are (kcnguard/cases/intents.py); the id is the case's.
CASE_INTENTS = Collection("case_intents", {})
