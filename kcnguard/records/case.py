"""A case: one suspect listing of one brand, from flag to action, with every step kept."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from kcnguard.records.base import AwareDatetime, CleanText, Record, Slug, utcnow


class CaseState(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    REFERRED = "referred"
    ACKNOWLEDGED = "acknowledged"
    ACTIONED = "actioned"
    CLOSED = "closed"
    DISMISSED = "dismissed"


ALLOWED_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.OPEN: frozenset({CaseState.CONFIRMED, CaseState.DISMISSED}),
    CaseState.CONFIRMED: frozenset({CaseState.REFERRED, CaseState.DISMISSED}),
    CaseState.REFERRED: frozenset({CaseState.ACKNOWLEDGED}),
    CaseState.ACKNOWLEDGED: frozenset({CaseState.ACTIONED}),
    CaseState.ACTIONED: frozenset({CaseState.CLOSED}),
    CaseState.CLOSED: frozenset(),
    CaseState.DISMISSED: frozenset({CaseState.OPEN}),
}


class InvalidTransition(ValueError):
    pass


class Transition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime = Field(default_factory=utcnow)
    actor: CleanText = Field(min_length=1, max_length=200)
    from_state: CaseState | None
    to_state: CaseState
    note: CleanText | None = Field(default=None, max_length=5000)


class Case(Record):
    case_id: str = Field(min_length=1, max_length=128)
    listing_key: str = Field(min_length=1, max_length=300)
    brand_id: Slug
    state: CaseState = CaseState.OPEN
    score: float = Field(ge=0, le=1)
    agencies: list[Slug] = Field(default_factory=list)
    history: list[Transition] = Field(default_factory=list)
    created_at: AwareDatetime = Field(default_factory=utcnow)
    updated_at: AwareDatetime = Field(default_factory=utcnow)

    @staticmethod
    def make_id(listing_key: str, brand_id: str) -> str:
        """One case per listing and brand, so a re-scored listing finds its case again."""
        digest = hashlib.sha256(f"{listing_key}|{brand_id}".encode()).hexdigest()[:20]
        return f"case-{digest}"

    @classmethod
    def open_for(cls, listing_key: str, brand_id: str, score: float, actor: str, note: str | None = None) -> Case:
        now = utcnow()
        return cls(
            case_id=cls.make_id(listing_key, brand_id),
            listing_key=listing_key,
            brand_id=brand_id,
            score=score,
            history=[Transition(at=now, actor=actor, from_state=None, to_state=CaseState.OPEN, note=note)],
            created_at=now,
            updated_at=now,
        )

    def transition(self, to: CaseState, actor: str, note: str | None = None) -> Case:
        if to not in ALLOWED_TRANSITIONS[self.state]:
            raise InvalidTransition(f"a case in state '{self.state}' cannot move to '{to}'")
        now = utcnow()
        step = Transition(at=now, actor=actor, from_state=self.state, to_state=to, note=note)
        return self.model_copy(update={"state": to, "history": [*self.history, step], "updated_at": now})


class CaseEvent(Record):
    """Told on the bus whenever a case opens or moves, for partners and dashboards."""

    event_id: str = Field(min_length=1, max_length=128)
    case_id: str
    kind: str = Field(pattern="^(opened|transitioned|rescored)$")
    state: CaseState
    listing_key: str
    brand_id: Slug
    score: float = Field(ge=0, le=1)
    actor: str
    at: AwareDatetime = Field(default_factory=utcnow)
