"""The topic names, and which record each topic carries. Nothing else names a topic."""

from __future__ import annotations

from dataclasses import dataclass

from kcnguard.records import CaseEvent, CrawlJob, DeadLetter, Listing, Record, ScoredListing


@dataclass(frozen=True)
class Topic:
    name: str
    record: type[Record]


CRAWL_JOBS = Topic("crawl-jobs", CrawlJob)
RAW_LISTINGS = Topic("listings-raw", Listing)
SCORED_LISTINGS = Topic("listings-scored", ScoredListing)
CASE_EVENTS = Topic("case-events", CaseEvent)
DEAD_LETTER = Topic("dead-letter", DeadLetter)

ALL = (CRAWL_JOBS, RAW_LISTINGS, SCORED_LISTINGS, CASE_EVENTS, DEAD_LETTER)


def physical(namespace: str, topic: Topic | str) -> str:
    """The name on the broker: one namespace per deployment, so tests and demos never mix."""
    name = topic.name if isinstance(topic, Topic) else topic
    return f"{namespace}.{name}"
