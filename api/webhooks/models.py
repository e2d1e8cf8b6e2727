"""Request and response shapes of webhook registration and deliveries."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kcnguard.records.base import Slug
from kcnguard.webhooks.records import Delivery, WebhookInfo


class WebhookIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "agency": "qltt-tinh",
                    "url": "https://hooks.qltt.example.gov.vn/kcnguard",
                    "allowed_hosts": ["hooks.qltt.example.gov.vn"],
                }
            ]
        },
    )

    agency: Slug = Field(description="The registered agency whose cases are delivered here")
    url: str = Field(min_length=8, max_length=2000, description="https:// (or http:// for an allowed private host)")
    allowed_hosts: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Hosts the admin allows for this agency, besides KCNGUARD_WEBHOOK_ALLOWED_HOSTS",
    )


class WebhookOut(WebhookInfo):
    """A registered webhook as the admin sees it: never its secret."""


class WebhookCreated(WebhookOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "agency": "qltt-tinh",
                    "url": "https://hooks.qltt.example.gov.vn/kcnguard",
                    "allowed_hosts": ["hooks.qltt.example.gov.vn"],
                    "active": True,
                    "created_at": "2026-03-01T08:00:00Z",
                    "created_by": "admin:ops",
                    "secret": "whsec_2kq…",
                }
            ]
        }
    )

    secret: str = Field(
        description="Shown this once: verify X-KCNGuard-Signature = sha256=HMAC-SHA256(secret, timestamp + '.' + body)"
    )


class WebhookPage(BaseModel):
    items: list[WebhookOut]
    total: int


class DeliveryPage(BaseModel):
    items: list[Delivery]
    total: int
    limit: int
    offset: int
