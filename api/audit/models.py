"""An audit entry, and what the log's verification reports."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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


class AuditPage(BaseModel):
    items: list[AuditEntry]
    total: int
    limit: int
    offset: int


class Verification(BaseModel):
    ok: bool
    entries: int = Field(description="How many entries were checked")
    first_bad_seq: int | None = Field(description="The first entry that is altered, missing or out of chain")
    reason: str | None = None
