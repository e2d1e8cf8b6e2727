"""Page objects: a response's url and body in, kcnguard records out. No crawling code here."""

from crawler.pages.base import ExtractionError

__all__ = ["ExtractionError"]
