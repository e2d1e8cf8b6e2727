"""The counterfeit lexicon: terms sellers use for fakes, and the legitimate phrases that excuse them.

The vocabulary lives in data/counterfeit_terms.json so an inspector can extend it without code.
Every spelling of every term is compiled into one alternation per text it is read on (the typed
text, the folded text, the folded text of listings typed without marks), so a listing is scanned
a few times in C, not once per phrase in Python.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from classifier.keyword_build import keyword_builder
from classifier.normalize import Normalized, fold, fold_lower
from classifier.phrase_scan import PhraseScan, longest_first

DATA_FILE = "counterfeit_terms.json"
# Words that change what a price means without being counterfeit words ("cũ", "2hand").
MARKET_FILE = "market_terms.json"
# What boundary_pattern lets stand between the words of a phrase; removed to look a match up.
_JOINERS = re.compile(r"[\s.\-_/]+")
_GLUE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Term:
    id: str
    vi: str
    en: str


@dataclass(frozen=True, slots=True)
class TermHit:
    term: Term
    text: str  # as it appears in the listing
    start: int
    end: int


# One is built per term found in a text: by keyword, through a function, so no dict of keywords is
# packed and unpacked per record (classifier/keyword_build.py).
_build_hit = keyword_builder(TermHit)


def _key(matched: str) -> str:
    return _JOINERS.sub("", matched)


class _Alternation:
    """Many phrases in one regex; a match is looked up by its spelling without joiners."""

    def __init__(self, spellings: list[tuple[str, Term | None]]) -> None:
        self.owner: dict[str, Term | None] = {}
        for spelling, term in spellings:
            self.owner.setdefault(_key(spelling), term)
        self.scan = PhraseScan([s for s, _ in spellings])

    def spans(self, haystack: str) -> list[tuple[int, int, Term | None]]:
        return [(start, end, self.owner.get(_key(found))) for start, end, found in self.scan.spans(haystack)]


def _split(entries: list[tuple[str, Term | None, bool]]) -> tuple[_Alternation, _Alternation, _Alternation]:
    """(on the typed text, on the folded text, on the folded text of unaccented listings)."""
    typed = [(s.lower(), t) for s, t, only_unaccented in entries if not s.isascii() and not only_unaccented]
    folded = [(fold(s), t) for s, t, only_unaccented in entries if s.isascii() and not only_unaccented]
    unaccented = [(fold(s), t) for s, t, only_unaccented in entries if only_unaccented]
    return _Alternation(typed), _Alternation(folded), _Alternation(unaccented)


def _readings(entries: list[tuple[str, Term | None, bool]]) -> list[str]:
    """Every spelling as it reads on the folded text: alternation() of these matches wherever any of
    _split's three would match.

    A typed spelling is folded character by character, as the typed text is folded into the
    folded text (one character for one, word characters staying word characters), so its
    matches on the typed text are matches here too.
    """
    readings = []
    for s, _, only_unaccented in entries:
        typed = not s.isascii() and not only_unaccented
        readings.append(fold_lower(" ".join(s.lower().split())) if typed else fold(s))
    return readings


class Lexicon:
    def __init__(self, data: dict[str, Any]) -> None:
        self.terms: dict[str, Term] = {}
        spellings: list[tuple[str, Term | None, bool]] = []
        for entry in data["terms"]:
            term = Term(id=entry["id"], vi=entry["vi"], en=entry["en"])
            self.terms[term.id] = term
            spellings += [(s, term, False) for s in [*entry.get("patterns", []), *entry.get("accented", [])]]
            spellings += [(s, term, True) for s in entry.get("unaccented", [])]
        self._typed, self._folded, self._unaccented = _split(spellings)
        # Most listings hold no term at all: one scan of every reading at once says so.
        self.readings = _readings(spellings)
        self._any_term = PhraseScan(self.readings)
        excluded = [(s, None, False) for s in data.get("exclusions", [])]
        excluded += [(s, None, True) for s in data.get("unaccented_exclusions", [])]
        self._x_typed, self._x_folded, self._x_unaccented = _split(excluded)
        glued = [_GLUE.sub("", fold(s)) for s in data.get("seller_glued", [])]
        self._glued = longest_first(glued) if glued else None

    def glued_in(self, text: Normalized) -> str | None:
        """A term glued inside a name or handle ('shopgiayreplica.com' → 'replica'), if any."""
        if self._glued is None:
            return None
        m = self._glued.search(_GLUE.sub("", text.deobfuscated))
        return m.group() if m else None

    def _scan(self, text: Normalized, typed: _Alternation, folded: _Alternation, unaccented: _Alternation):
        found = typed.spans(text.lower) + folded.spans(text.folded)
        if not text.accented:
            found += unaccented.spans(text.folded)
        return found

    def excluded_spans(self, text: Normalized) -> list[tuple[int, int]]:
        return [(s, e) for s, e, _ in self._scan(text, self._x_typed, self._x_folded, self._x_unaccented)]

    def spelled_in(self, text: Normalized) -> bool:
        """False when no spelling of any term is in the typed or folded text (then find sees only
        terms hidden by spelling tricks)."""
        return self._any_term.found_in(text.folded)

    def read(self, text: Normalized, token: str, spelled: bool | None = None) -> tuple[list[TermHit], str]:
        """find(text) and mask(text.deobfuscated, token), looking for any term only once.

        `spelled` is spelled_in(text) when the caller knows it (None: looked up here)."""
        if spelled is None:
            spelled = self.spelled_in(text)
        if spelled:
            return self.find(text, spelled=True), self.mask(text.deobfuscated, token)
        hidden = self._hidden(text, set())
        # The de-obfuscated text is the folded one unless tricks were undone: it then holds no term either.
        masked = text.deobfuscated if text.deobfuscated == text.folded else self.mask(text.deobfuscated, token)
        return hidden, masked

    def find(self, text: Normalized, spelled: bool | None = None) -> list[TermHit]:
        """The counterfeit terms in the text, longest first per place, minus legitimate uses.

        `spelled` is spelled_in(text) when the caller knows it (None: looked up here)."""
        if spelled is None:
            spelled = self.spelled_in(text)
        found = self._scan(text, self._typed, self._folded, self._unaccented) if spelled else []
        hidden = self._hidden(text, {term.id for _, _, term in found if term})
        if not found and not hidden:
            return []
        excluded = self.excluded_spans(text) if found else []
        hits = [
            _build_hit(term=term, text=text.lower[start:end], start=start, end=end)
            for start, end, term in found
            if term is not None and not any(s <= start and end <= e for s, e in excluded)
        ]
        # Keep the longest phrase at each place: "rep 1:1" rather than "rep" and "1:1" apart.
        hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
        kept: list[TermHit] = []
        for hit in hits:
            if kept and hit.start < kept[-1].end:
                continue
            kept.append(hit)
        return kept + hidden

    def mask(self, folded: str, token: str) -> str:
        """A folded text with every counterfeit term replaced by one token (the term is a signal of its own)."""
        regex = self._folded.scan.regex
        return regex.sub(f" {token} ", folded) if regex is not None else folded

    def _hidden(self, text: Normalized, seen: set[str]) -> list[TermHit]:
        """Terms visible only once spelling tricks are undone ('r3p', 'f@ke', 's.i.e.u c.a.p')."""
        if text.deobfuscated == text.folded:
            return []
        out = []
        for start, end, term in self._folded.spans(text.deobfuscated):
            if term is not None and term.id not in seen:
                seen.add(term.id)
                # Offsets of the de-obfuscated text do not line up with the listing's: placed after it.
                out.append(
                    _build_hit(term=term, text=text.deobfuscated[start:end], start=len(text.lower), end=len(text.lower))
                )
        return out


def load(data: dict[str, Any] | None = None) -> Lexicon:
    return Lexicon(data) if data is not None else default_lexicon()


def raw_data() -> bytes:
    return resources.files("classifier.data").joinpath(DATA_FILE).read_bytes()


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return Lexicon(json.loads(raw_data()))


def market_raw_data() -> bytes:
    return resources.files("classifier.data").joinpath(MARKET_FILE).read_bytes()


@lru_cache(maxsize=1)
def default_market_terms() -> Lexicon:
    """The market vocabulary (second-hand goods), read with the counterfeit lexicon's matching rules."""
    return Lexicon(json.loads(market_raw_data()))
