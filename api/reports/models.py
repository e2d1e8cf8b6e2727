"""A received report as stored, and the shapes of sending one in and triaging it."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kcnguard.records.base import AwareDatetime, CleanText, Slug, utcnow

MAX_URL = 2048
MAX_NOTE = 2000


class ReporterKind(StrEnum):
    ENTERPRISE = "enterprise"
    WORKER = "worker"
    CONSUMER = "consumer"


# A report's status: the queue's four, plus "crawled" once the listing itself is in the store.
ReportStatus = Literal["new", "needs_info", "confirmed", "dismissed", "crawled"]


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report_id: str
    url: str
    marketplace: str | None = Field(description="The marketplace the URL's host belongs to, when known")
    note: str | None
    brand_id: Slug | None
    brand_hint: str | None = Field(default=None, description="A brand id the reporter named that is not registered")
    owner_id: Slug | None = Field(description="The enterprise owning the brand (or sending the report)")
    reporter_kind: ReporterKind
    reporter: str = Field(description="role:name of the key or session, or 'anonymous'")
    contact: str | None
    status: ReportStatus = "new"
    received_at: AwareDatetime = Field(default_factory=utcnow)
    triaged_by: str | None = None
    triaged_at: AwareDatetime | None = None
    triage_note: str | None = None
    listing_key: str | None = None
    search_text: str = ""


_URL = re.compile(r"^https?://[^\s/?#@]+\.[^\s/?#@]+(?::\d{1,5})?(?:[/?#][^\s]*)?$", re.IGNORECASE)


class ReportIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://shopee.vn/giay-vinastep-replica-i.123.456",
                    "note": "Giá 150.000đ, logo in lệch, shop mới mở",
                    "brand_id": "vinastep",
                    "reporter_kind": "worker",
                    "contact": "0912 345 678",
                }
            ]
        },
    )

    url: str = Field(min_length=10, max_length=MAX_URL, description="The listing's address (http or https)")
    note: CleanText | None = Field(default=None, max_length=MAX_NOTE)
    brand_id: Slug | None = None
    reporter_kind: ReporterKind
    contact: CleanText | None = Field(default=None, max_length=200, description="Phone or email, if you wish a reply")

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        url = url.strip()
        if not _URL.match(url):
            raise ValueError(
                "the url must be a web address starting with http:// or https:// (e.g. https://shopee.vn/...)"
            )
        return url


class ReportReceipt(BaseModel):
    report_id: str
    status: str
    received_at: datetime
    message_vi: str
    message_en: str


class ReportPage(BaseModel):
    items: list[Report]
    total: int
    limit: int
    offset: int


class TriageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["new", "needs_info", "confirmed", "dismissed", "crawled"]
    note: CleanText | None = Field(default=None, max_length=MAX_NOTE)
    listing_key: str | None = Field(default=None, max_length=300, description="The stored listing it turned out to be")
