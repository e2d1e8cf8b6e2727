"""What one crawl met, as its spider reports it (CrawlOutcome), and the run status that follows from it."""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.changes import Removal


@dataclass
class CrawlOutcome:
    """The spider's typed report of one crawl: what it read, what failed, what refused it, what was gone.

    The spider fills the lists while it crawls and the counters from Scrapy's stats when asked
    (MarketplaceSpider.report); the job's run reads only this, never the spider's attributes.
    """

    marketplace: str
    pages: int = 0
    failures: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    blocked_statuses: list[int] = field(default_factory=list)
    removals: list[Removal] = field(default_factory=list)
    robots_forbidden: int = 0
    finish_reason: str | None = None

    @property
    def blocked(self) -> bool:
        """The marketplace refused us: a block or captcha page, or nothing read past robots.txt or a 401/403/429."""
        return bool(self.blocks) or (self.pages == 0 and bool(self.robots_forbidden or self.blocked_statuses))

    def verdict(self) -> tuple[str, str | None]:
        """done, blocked or failed, with the reason an operator reads.

        A block or captcha makes the run `blocked` even after some pages were read: the results are
        incomplete and the marketplace is refusing us, which an operator must see, not a smaller count.
        """
        pages = self.pages
        if self.blocks:
            return "blocked", self.blocks[0] + (f" (after {pages} pages read)" if pages else "")
        if self.blocked:
            why = (
                "robots.txt forbids the search page"
                if self.robots_forbidden
                else f"HTTP {self.blocked_statuses[0]} from the marketplace"
            )
            return "blocked", f"{self.marketplace}: {why}"
        if pages == 0:
            return "failed", self.failures[0] if self.failures else f"no page read (finish reason {self.finish_reason})"
        notes: list[str] = []
        if self.removals:
            notes.append("; ".join(f"{r.key} gone: {r.reason}" for r in self.removals))
        if self.finish_reason == "closespider_timeout":
            notes.append(f"stopped at the job time limit after {pages} pages; the rest waits for the next cycle")
        if self.failures:
            notes.append(f"{len(self.failures)} requests failed, first: {self.failures[0]}")
        return "done", "; ".join(notes) if notes else None
