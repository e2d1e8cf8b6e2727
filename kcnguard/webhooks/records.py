"""A partner agency's webhook, and one delivery of one case event to it with every attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class WebhookInfo(BaseModel):
    """What may be shown of an agency's webhook."""

    agency: str
    url: str
    allowed_hosts: list[str]
    active: bool
    created_at: datetime
    created_by: str


class Webhook(WebhookInfo):
    """One per agency; registering again replaces the URL and the secret (a rotation)."""

    secret: str = Field(description="Kept for signing; shown to the admin once, at registration")


class Attempt(BaseModel):
    at: datetime
    status: int | None = Field(description="The HTTP status the partner answered, None when no answer")
    error: str | None = None
    seconds: float


class Delivery(BaseModel):
    delivery_id: str
    agency: str
    event_id: str
    case_id: str
    status: str = Field(description="pending, delivered or dead (no more attempts)")
    attempts: list[Attempt]
    next_attempt_at: datetime | None
    updated_at: datetime


def delivery_id(agency: str, event_id: str) -> str:
    """One delivery per agency and event: a replayed event finds its delivery already there."""
    return f"{agency}|{event_id}"


def pending_delivery(agency: str, event_id: str, case_id: str, payload: dict[str, Any], now: str) -> dict[str, Any]:
    """A new delivery as stored: its body (`payload`) is signed and posted as it is at every attempt."""
    return {
        "delivery_id": delivery_id(agency, event_id),
        "agency": agency,
        "event_id": event_id,
        "case_id": case_id,
        "status": "pending",
        "payload": payload,
        "attempts": [],
        "next_attempt_at": now,
        "updated_at": now,
    }
