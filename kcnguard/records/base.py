"""What every record on the bus and in the store has in common."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

# Control characters other than tab and newline carry no meaning in a title or a note and
# are a favourite of hostile pages (terminal escapes, bidi overrides).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def clean_text(value: str) -> str:
    """NFC-normalise and strip control characters, so one string has one spelling."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", value)).strip()


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    # A naive time from a page or a partner is taken as UTC rather than guessed at.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def max_bytes(limit: int) -> AfterValidator:
    """A length limit in UTF-8 bytes, as the stores count ids (Elasticsearch refuses an _id over 512 bytes).

    A character limit lets a short Vietnamese or emoji id through that a derived id then breaks
    late, after other writes were made; a byte limit refuses it at validation, before any write.
    """

    def check(value: str) -> str:
        size = len(value.encode())
        if size > limit:
            raise ValueError(f"dài {size} byte, tối đa {limit} / is {size} bytes long (UTF-8), at most {limit}")
        return value

    return AfterValidator(check)


CleanText = Annotated[str, AfterValidator(clean_text)]
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
# Ids of records (crawl jobs, cases, events), counted in bytes like every id a store keeps.
MAX_RECORD_ID_BYTES = 128
RecordId = Annotated[str, Field(min_length=1, max_length=MAX_RECORD_ID_BYTES), max_bytes(MAX_RECORD_ID_BYTES)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Record(BaseModel):
    """A record crosses a process boundary: unknown keys are refused, not carried silently."""

    model_config = ConfigDict(extra="forbid", str_max_length=100_000, validate_default=True)

    # The version this code writes and the newest it can read; bump it with a migration note.
    SCHEMA_VERSION: ClassVar[int] = 1

    schema_version: int = Field(default=1, ge=1)

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, version: int) -> int:
        if version > cls.SCHEMA_VERSION:
            raise ValueError(
                f"{cls.__name__} schema version {version} is newer than this service reads "
                f"({cls.SCHEMA_VERSION}): upgrade the service before it consumes such records"
            )
        return version

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    def to_doc(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
