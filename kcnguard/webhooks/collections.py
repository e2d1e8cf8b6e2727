"""The collections of partner webhooks (the secret kept for signing, never shown again) and every delivery."""

from __future__ import annotations

from kcnguard.store.schema import Collection, Field, Kind

WEBHOOKS = Collection("webhooks", {"agency": Field("agency", Kind.KEYWORD), "active": Field("active", Kind.BOOL)})
WEBHOOK_DELIVERIES = Collection(
    "webhook_deliveries",
    {
        "agency": Field("agency", Kind.KEYWORD),
        "event_id": Field("event_id", Kind.KEYWORD),
        "status": Field("status", Kind.KEYWORD),  # pending, delivered, dead
        "next_attempt_at": Field("next_attempt_at", Kind.DATE),
        "updated_at": Field("updated_at", Kind.DATE),
    },
)
