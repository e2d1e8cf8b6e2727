"""A page of the audit log (the entries and their verification are kcnguard.cases.audit's)."""

from __future__ import annotations

from pydantic import BaseModel

from kcnguard.cases.audit import AuditEntry


class AuditPage(BaseModel):
    items: list[AuditEntry]
    total: int
    limit: int
    offset: int
