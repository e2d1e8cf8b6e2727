"""The counterfeit lexicon: terms sellers use for fakes, and the legitimate phrases that excuse them.

The vocabulary lives in data/counterfeit_terms.json so an inspector can extend it without code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from classifier.normalize import Normalized, boundary_pattern, fold

DATA_FILE = "counterfeit_terms.json"


@dataclass(frozen=True)
class Term:
    id: str
    vi: str
    en: str


@dataclass(frozen=True)
class TermHit:
    term: Term
    text: str  # as it appears in the listing
    start: int
    end: int


@dataclass(frozen=True)
class _Phrase:
    """One compiled spelling: matched on the typed text (accented) or the folded one."""

    regex: re.Pattern[str]
    on_typed: bool
    unaccented_only: bool


def _phrase(spelling: str, unaccented_only: bool = False) -> _Phrase:
    on_typed = not spelling.isascii()
    text = spelling.lower() if on_typed else fold(spelling)
    return _Phrase(re.compile(boundary_pattern(text)), on_typed, unaccented_only)


def _spans(phrases: list[_Phrase], text: Normalized) -> list[tuple[int, int]]:
    spans = []
    for phrase in phrases:
        if phrase.unaccented_only and text.accented:
            continue
        haystack = text.lower if phrase.on_typed else text.folded
        spans.extend(m.span() for m in phrase.regex.finditer(haystack))
    return spans


class Lexicon:
    def __init__(self, data: dict[str, Any]) -> None:
        self.terms: dict[str, Term] = {}
        self._phrases: list[tuple[Term, _Phrase]] = []
        for entry in data["terms"]:
            term = Term(entry["id"], entry["vi"], entry["en"])
            self.terms[term.id] = term
            for spelling in [*entry.get("patterns", []), *entry.get("accented", [])]:
                self._phrases.append((term, _phrase(spelling)))
            for spelling in entry.get("unaccented", []):
                self._phrases.append((term, _phrase(spelling, unaccented_only=True)))
        self._exclusions = [_phrase(s) for s in data.get("exclusions", [])]
        self._exclusions += [_phrase(s, unaccented_only=True) for s in data.get("unaccented_exclusions", [])]

    def excluded_spans(self, text: Normalized) -> list[tuple[int, int]]:
        return _spans(self._exclusions, text)

    def find(self, text: Normalized) -> list[TermHit]:
        """The counterfeit terms in the text, longest first per place, minus legitimate uses."""
        excluded = self.excluded_spans(text)
        hits: list[TermHit] = []
        for term, phrase in self._phrases:
            if phrase.unaccented_only and text.accented:
                continue
            haystack = text.lower if phrase.on_typed else text.folded
            for match in phrase.regex.finditer(haystack):
                start, end = match.span()
                if any(s <= start and end <= e for s, e in excluded):
                    continue
                hits.append(TermHit(term, text.lower[start:end], start, end))
        # Keep the longest phrase at each place: "rep 1:1" rather than "rep" and "1:1" apart.
        hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
        kept: list[TermHit] = []
        for hit in hits:
            if kept and hit.start < kept[-1].end:
                continue
            kept.append(hit)
        return kept


def load(data: dict[str, Any] | None = None) -> Lexicon:
    return Lexicon(data) if data is not None else default_lexicon()


def raw_data() -> bytes:
    return resources.files("classifier.data").joinpath(DATA_FILE).read_bytes()


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return Lexicon(json.loads(raw_data()))
