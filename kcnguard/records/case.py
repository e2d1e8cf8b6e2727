"""A case: one suspect listing of one brand, from flag to action, with every step kept."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from kcnguard.records.base import AwareDatetime, CleanText, Record, RecordId, Slug, max_bytes, utcnow
from kcnguard.records.listing import MAX_LISTING_KEY_BYTES
from kcnguard.store.schema import Collection, Kind, searchable


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


class ActionKind(StrEnum):
    TAKEDOWN_REQUESTED = "takedown_requested"
    REMOVED = "removed"
    PENALTY = "penalty"
    OTHER = "other"


class PartnerAction(BaseModel):
    """What an agency reports it did, with the document that proves it."""

    model_config = ConfigDict(extra="forbid")

    kind: ActionKind
    document_number: CleanText | None = Field(default=None, max_length=100)
    document_date: date | None = None
    note: CleanText | None = Field(default=None, max_length=5000)
    actor: CleanText = Field(min_length=1, max_length=200)
    reported_at: AwareDatetime = Field(default_factory=utcnow)


class Referral(BaseModel):
    """A case sent to one agency: when, by whom, its receipt and what it reported back."""

    model_config = ConfigDict(extra="forbid")

    agency: Slug
    referred_at: AwareDatetime = Field(default_factory=utcnow)
    referred_by: CleanText = Field(min_length=1, max_length=200)
    acknowledged_at: AwareDatetime | None = None
    acknowledged_by: CleanText | None = Field(default=None, max_length=200)
    actions: list[PartnerAction] = Field(default_factory=list, max_length=200)


class Case(Record):
    case_id: RecordId
    listing_key: Annotated[str, Field(min_length=1, max_length=MAX_LISTING_KEY_BYTES), max_bytes(MAX_LISTING_KEY_BYTES)]
    brand_id: Slug
    state: CaseState = CaseState.OPEN
    score: float = Field(ge=0, le=1)
    agencies: list[Slug] = Field(default_factory=list, description="Every agency the case is referred to")
    referrals: list[Referral] = Field(default_factory=list)
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

    def request_info(self, actor: str, note: str | None = None) -> Case:
        """An inspector needs more information before deciding: kept as an open -> open step."""
        if self.state is not CaseState.OPEN:
            raise InvalidTransition(f"only an open case can wait for more information, not one '{self.state}'")
        now = utcnow()
        step = Transition(at=now, actor=actor, from_state=self.state, to_state=self.state, note=note)
        return self.model_copy(update={"history": [*self.history, step], "updated_at": now})

    @property
    def review_status(self) -> str:
        """The review queue's view of the case: new, needs_info, confirmed or dismissed."""
        return review_status(self.state, self.history[-1] if self.history else None)

    def refer(self, agencies: list[str], actor: str, note: str | None = None) -> Case:
        """Send a confirmed case to one or more agencies; referring a referred case adds agencies."""
        new = [a for a in dict.fromkeys(agencies) if a not in self.agencies]
        if not new:
            raise InvalidTransition("the case is already referred to every agency named")
        if self.state is CaseState.CONFIRMED:
            case = self.transition(CaseState.REFERRED, actor, note)
        elif self.state in (CaseState.REFERRED, CaseState.ACKNOWLEDGED, CaseState.ACTIONED):
            case = self  # another agency joins a case already under way
        else:
            raise InvalidTransition(f"a case in state '{self.state}' cannot be referred; confirm it first")
        now = utcnow()
        referrals = [*case.referrals, *(Referral(agency=a, referred_at=now, referred_by=actor) for a in new)]
        return case.model_copy(update={"agencies": [*case.agencies, *new], "referrals": referrals, "updated_at": now})

    def referral(self, agency: str) -> Referral:
        for r in self.referrals:
            if r.agency == agency:
                return r
        raise InvalidTransition(f"the case is not referred to '{agency}'")

    def acknowledge(self, agency: str, actor: str) -> Case:
        """An agency confirms receipt; the first receipt moves the case to acknowledged. Idempotent."""
        referral = self.referral(agency)
        if referral.acknowledged_at is not None:
            return self
        now = utcnow()
        updated = referral.model_copy(update={"acknowledged_at": now, "acknowledged_by": actor})
        case = self.transition(CaseState.ACKNOWLEDGED, actor) if self.state is CaseState.REFERRED else self
        return case._with_referral(updated, now)

    def report_action(self, agency: str, action: PartnerAction) -> Case:
        """An agency reports what it did; receipt is implied, and the first action moves the case to actioned."""
        case = self.acknowledge(agency, action.actor)
        referral = case.referral(agency)
        now = utcnow()
        updated = referral.model_copy(update={"actions": [*referral.actions, action]})
        if case.state is CaseState.ACKNOWLEDGED:
            case = case.transition(CaseState.ACTIONED, action.actor, f"{action.kind}: {action.document_number or ''}")
        return case._with_referral(updated, now)

    def _with_referral(self, referral: Referral, now: datetime) -> Case:
        referrals = [referral if r.agency == referral.agency else r for r in self.referrals]
        return self.model_copy(update={"referrals": referrals, "updated_at": now})


REVIEW_STATUSES = ("new", "needs_info", "confirmed", "dismissed")


def review_status(state: CaseState, last: Transition | None) -> str:
    if state is CaseState.DISMISSED:
        return "dismissed"
    if state is CaseState.OPEN:
        waiting = last is not None and last.from_state is CaseState.OPEN and last.to_state is CaseState.OPEN
        return "needs_info" if waiting else "new"
    return "confirmed"


class CaseEvent(Record):
    """Told on the bus whenever a case opens or moves, for partners and dashboards."""

    event_id: RecordId
    case_id: str
    # referred: agencies joined (state may stay); info_requested: an inspector asked for more before deciding.
    # acknowledged / actioned: an agency confirmed receipt or reported an action (state may stay).
    kind: str = Field(pattern="^(opened|transitioned|rescored|referred|info_requested|acknowledged|actioned)$")
    state: CaseState
    listing_key: str
    brand_id: Slug
    score: float = Field(ge=0, le=1)
    actor: str
    at: AwareDatetime = Field(default_factory=utcnow)


CASES = Collection(
    "cases",
    {
        "case_id": searchable("case_id", Kind.KEYWORD),
        "listing_key": searchable("listing_key", Kind.KEYWORD),
        "brand_id": searchable("brand_id", Kind.KEYWORD),
        "state": searchable("state", Kind.KEYWORD),
        "agencies": searchable("agencies", Kind.KEYWORD, many=True),
        "score": searchable("score", Kind.FLOAT),
        "updated_at": searchable("updated_at", Kind.DATE),
    },
    indexes=(("brand_id", "state", "updated_at"), ("state", "updated_at")),
)
