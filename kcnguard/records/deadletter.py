"""What could not be handled, kept with its reason and its raw bytes: nothing is lost silently."""

from __future__ import annotations

import base64

from pydantic import Field

from kcnguard.records.base import AwareDatetime, Record, utcnow

# Enough to see what was wrong with a record, and small enough (base64 included) to stay under
# Kafka's default 1 MB message limit.
MAX_RAW_BYTES = 256 * 1024


class DeadLetter(Record):
    source: str = Field(description="Topic, or 'crawl' for a page the crawler could not read")
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    reason: str = Field(max_length=5000)
    raw_b64: str = Field(default="", max_length=400_000, description="The raw bytes, base64, cut at 256 KiB")
    raw_size: int = 0
    url: str | None = None
    evidence_digest: str | None = None
    worker: str = ""
    failed_at: AwareDatetime = Field(default_factory=utcnow)

    @classmethod
    def of(cls, raw: bytes, reason: str, **where: object) -> DeadLetter:
        kept = raw[:MAX_RAW_BYTES]
        return cls(
            raw_b64=base64.b64encode(kept).decode(),
            raw_size=len(raw),
            reason=reason[:5000],
            **where,  # type: ignore[arg-type]
        )

    @property
    def raw(self) -> bytes:
        return base64.b64decode(self.raw_b64)
