"""The records every service exchanges: one definition each, used on the bus and in the store."""

from kcnguard.records.base import Record, clean_text, utcnow
from kcnguard.records.brand import Brand, OfficialSeller, Product, Trademark
from kcnguard.records.case import (
    ALLOWED_TRANSITIONS,
    ActionKind,
    Case,
    CaseEvent,
    CaseState,
    InvalidTransition,
    PartnerAction,
    Referral,
    Transition,
)
from kcnguard.records.crawl import CrawlJob, CrawlRun
from kcnguard.records.deadletter import DeadLetter
from kcnguard.records.listing import Listing, Observation, Seller, StoredListing, listing_key
from kcnguard.records.scoring import Reason, ScoredListing, scored_key

__all__ = [
    "ALLOWED_TRANSITIONS",
    "ActionKind",
    "Brand",
    "Case",
    "CaseEvent",
    "CaseState",
    "CrawlJob",
    "CrawlRun",
    "DeadLetter",
    "InvalidTransition",
    "Listing",
    "Observation",
    "OfficialSeller",
    "PartnerAction",
    "Product",
    "Reason",
    "Record",
    "Referral",
    "ScoredListing",
    "Seller",
    "StoredListing",
    "Trademark",
    "Transition",
    "clean_text",
    "listing_key",
    "scored_key",
    "utcnow",
]
