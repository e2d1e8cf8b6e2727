"""What the marketplaces' JSON API pages (Shopee, Tiki, Lazada, Sendo) read the same way: lists of
product objects, and the keys an unexpected object has, named in the error that refuses it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from crawler.pages.base import ExtractionError, first_per_id
from kcnguard.records import Listing


def listings_of(items: list[Any], where: str, read: Callable[[dict[str, Any], str], Listing]) -> list[Listing]:
    """Each object of a JSON list read as a listing by `read(item, place)`, in order, one per listing_id.

    A non-object is an error naming its place (`where[3]`).
    """
    return first_per_id(_read_each(items, where, read))


def _read_each(items: list[Any], where: str, read: Callable[[dict[str, Any], str], Listing]) -> Iterator[Listing]:
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise ExtractionError(f"{where}[{position}]", f"is a {type(item).__name__}, not an object")
        yield read(item, f"{where}[{position}].")


def json_object(data: Any, url: str) -> dict[str, Any]:
    """A response's top level, which must be an object."""
    if not isinstance(data, dict):
        raise ExtractionError("data", f"{url}: JSON is a {type(data).__name__}, not an object")
    return data


def keys_of(value: Any) -> str:
    """For an error message: an object's first keys in order, or what the value is instead."""
    return ", ".join(sorted(value)[:20]) if isinstance(value, dict) else type(value).__name__
