"""Descriptive use: a brand named only to say what a product fits, not as the product's own brand.

"Ốp lưng cho Kira Phone" names the phone to say what the case fits: lawful descriptive use, not
a claim to be the brand's product. What gives it away is read from the words around a mention:
a connector before it ("cho", "for"), an accessory word opening the title or right after the
first mention ("Ốp lưng", "case"), or the mention being one item of a list of devices the
product works with. The phrases live in data/descriptive_patterns.json.
"""

from __future__ import annotations

import json
import re
from collections import deque
from functools import lru_cache
from importlib import resources
from typing import Any

from classifier.normalize import Normalized, fold, fold_lower
from classifier.phrase_scan import PhraseScan, alternation, longest_first
from kcnguard.records import Brand

DESCRIPTIVE_FILE = "descriptive_patterns.json"


class _Phrases:
    """Alternatives compiled into one regex for each text they are read on: plain-ASCII spellings on
    the folded text, marked ones on the typed text, `unaccented` ones on the folded text of a window
    typed without marks."""

    __slots__ = ("_typed_on_ascii", "folded", "readings", "typed", "unaccented")

    def __init__(self, ascii_and_typed: list[str], unaccented: list[str]) -> None:
        folded = [fold(s) for s in ascii_and_typed if s.isascii()]
        typed = [s.lower() for s in ascii_and_typed if not s.isascii()]
        self.folded = alternation(folded)
        self.typed = alternation(typed)
        self.unaccented = alternation([fold(s) for s in unaccented])
        # Every phrase as it reads on a folded text (a typed one folded character by character, as the
        # typed text folds): where none of these is, no reading of any phrase is either.
        self.readings = [*folded, *(fold_lower(t) for t in typed), *(fold(s) for s in unaccented)]
        # A marked spelling cannot match a window typed in plain ASCII, which most windows are, so that
        # scan is skipped; unless lower-casing made a spelling ASCII (checked here, not assumed).
        self._typed_on_ascii = any(s.isascii() for s in typed)

    def last_in(self, lower: str, folded: str) -> tuple[int, str] | None:
        """The last phrase in a window of text already through nfc_lower, given with its fold_lower:
        (its end, as written). The last is the one ending furthest; on a tie, the first of the
        folded, typed and unaccented readings."""
        last = _last_match(self.folded, folded)
        if self.typed is not None and (self._typed_on_ascii or not lower.isascii()):
            typed = _last_match(self.typed, lower)
            if typed is not None and (last is None or typed.end() > last.end()):
                last = typed
        if self.unaccented is not None and folded == lower:
            unaccented = _last_match(self.unaccented, folded)
            if unaccented is not None and (last is None or unaccented.end() > last.end()):
                last = unaccented
        return None if last is None else (last.end(), lower[last.start() : last.end()])


def _last_match(regex: re.Pattern[str] | None, haystack: str) -> re.Match[str] | None:
    # Matches of one regex do not overlap, so the last found is also the one ending furthest.
    if regex is None:
        return None
    # Most windows hold no phrase: one search says so without building an iterator and a deque.
    first = regex.search(haystack)
    if first is None:
        return None
    last = deque(regex.finditer(haystack, first.end()), maxlen=1)
    return last[0] if last else first


class DeviceLists:
    """A brand named as one item of a list of the devices a product works with: 'tai nghe … IP, pc, samsung'.

    What tells it from a list of the product's own brands ('Giày Nike, Adidas rep 1:1') is the
    company the brand keeps: a bare device noun (pc, laptop, điện thoại) among the items, two
    platform names (Android, iOS), or a connector opening the list ('dùng cho iPhone 14, Samsung
    S23'). Only a mention that opens an item after the first counts: the first item is what the
    listing sells ('Samsung A54 | Android | 8GB' is Samsung's own phone).
    """

    def __init__(self, data: dict[str, Any], connectors: _Phrases) -> None:
        separators = sorted(set("".join(data.get("list_separators", []))))
        words = {fold(w) for w in data.get("list_words", [])}
        # Every alternative opens on a literal character (a separator one by one, not as a class):
        # the engine then skips the positions that open none (a title is scanned for its first
        # separator on every brand mention); one opening on a class would have it try them all.
        parts = [re.escape(s) for s in separators]
        if words and "" not in words:
            parts.append(longest_first(list(words), on_boundaries=True).pattern)
        else:
            longest = sorted(words, key=len, reverse=True)
            parts += [rf"(?<![^\W_]){re.escape(w)}(?![^\W_])" for w in longest]
        self._separator = re.compile("|".join(parts)) if parts else None
        # How far past a place a separator opening before it can reach: its longest word and the one
        # character its end boundary looks at.
        self._reach = max((len(w) for w in words), default=1) + 1
        self.max_tokens = int(data.get("list_item_max_tokens", 4))
        self.max_gap = int(data.get("max_gap_tokens", 4))
        self._devices = {" ".join(fold(d).split()) for d in data.get("list_devices", [])}
        self._platforms = {" ".join(fold(d).split()) for d in data.get("list_platforms", [])}
        self._connectors = connectors

    def first_separator(self, folded: str, before: int) -> int | None:
        """Where the text's first item ends (its first separator starts), when that is before `before`;
        else None. The text is read only as far as such a separator can reach: a brand is mostly
        named at a title's start, and the rest of the title need not be scanned."""
        if self._separator is None:
            return None
        first = self._separator.search(folded, 0, min(len(folded), before + self._reach))
        return first.start() if first is not None and first.start() < before else None

    def phrase(self, text: str, folded: str, start: int, end: int, first_separator: int | None) -> str | None:
        """The list (as typed, up to the mention) when the mention at text[start:end] is an item of a device list.

        `folded` is fold_lower(text); `first_separator` is first_separator(folded, before) with `before`
        the last mention's start, found once for all the mentions in a text."""
        if first_separator is None or start < first_separator:
            # The mention is in the first item (what the listing sells), as most are: no list to read.
            return None
        cuts = [(m.start(), m.end()) for m in self._separator.finditer(folded)]
        spans = [(a, b) for a, b in zip([0, *(e for _, e in cuts)], [*(s for s, _ in cuts), len(folded)], strict=True)]
        k = next((i for i, (a, b) in enumerate(spans) if a <= start < b), 0)
        if k == 0 or _WORD.search(folded, spans[k][0], start):
            return None
        if k < len(spans) - 1 and len(_WORD.findall(folded, end, spans[k][1])) >= self.max_tokens:
            return None
        platforms = 0
        for side in (range(k - 1, -1, -1), range(k + 1, len(spans))):
            for j in side:
                words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(folded, *spans[j])]
                item = " ".join(w for _, _, w in words)
                if item in self._devices:
                    return _quote_list(text, words[0][0], words[-1][1], start, end)
                platforms += item in self._platforms
                if platforms >= 2:
                    return _quote_list(text, words[0][0], words[-1][1], start, end)
                if j == 0:
                    opening = self._opening(text, folded, words, spans[0][1], start, end, platforms)
                    if opening:
                        return opening
                if len(words) > self.max_tokens:
                    break
        return None

    def _opening(
        self,
        text: str,
        folded: str,
        words: list[tuple[int, int, str]],
        stop: int,
        start: int,
        end: int,
        platforms: int,
    ) -> str | None:
        """The first item's last words are a device ('… chơi game PC, Samsung'), the second platform of the
        list ('tai nghe bluetooth Android, iOS, Samsung'), or a connector opens the list."""
        for n in range(1, 4):
            tail = " ".join(w for _, _, w in words[-n:]) if len(words) >= n else None
            if tail in self._devices or (platforms and tail in self._platforms):
                return _quote_list(text, words[-n][0], words[-1][1], start, end)
        window = words[-(self.max_gap + 3) :]
        if not window:
            return None
        connector = self._connectors.last_in(text[window[0][0] : stop], folded[window[0][0] : stop])
        if connector is not None and len(text[window[0][0] + connector[0] : stop].split()) <= self.max_gap:
            return connector[1]
        return None


_WORD = re.compile(r"[^\W_]+")


def _quote_list(text: str, item_start: int, item_end: int, start: int, end: int) -> str:
    """The typed words from the list's device item to the brand's mention, whichever comes first."""
    return " ".join(text[min(item_start, start) : max(item_end, end)].split())


class DescriptiveRules:
    def __init__(self, data: dict[str, Any]) -> None:
        self.max_gap = int(data.get("max_gap_tokens", 4))
        self._connectors = _Phrases(data["connectors"], data.get("unaccented_connectors", []))
        self._accessories = _Phrases(data["accessories"], data.get("unaccented_accessories", []))
        self.accessory_categories = [fold(c) for c in data.get("accessory_categories", [])]
        self.after_tokens = int(data.get("accessory_after_tokens", 3))
        self._after_words = re.compile(rf"(?: ?[^ ]+){{0,{self.after_tokens}}}")
        self._accessories_after = _Phrases(data.get("accessories_after", []), [])
        # Asked for every mention of a brand; a registry has few categories, so each is folded once.
        self._makes_accessories: dict[str, bool] = {}
        self.lists = DeviceLists(data, self._connectors)
        self._any_phrase = _any_phrase([self._connectors, self._accessories, self._accessories_after])

    def may_describe(self, title: Normalized, upto: int) -> bool:
        """False when phrase_before and accessory_after can find nothing in the title's windows that all
        end by `upto` (most titles): one scan of the title that far instead of a few on each window.

        A window they read is a run of the title's words, cut from nfc_lower's single-spaced text,
        and a phrase matching in it matches at the same place in the title: the boundaries match
        alike, since a window's edges are a space, the title's ends or a brand mention's boundary,
        and every phrase opens and closes on a letter or digit (else no shortcut). Cut at `upto`,
        the title may show a phrase that the whole title does not (the end boundary is then checked
        against the cut), never the reverse: a phrase in a window ending by `upto` examines no
        character past it. A phrase shown wrongly only means the windows are read."""
        return self._any_phrase is None or self._any_phrase.found_in(title.folded, upto)

    def after_end(self, text: str, at: int) -> int:
        """Where the words accessory_after reads after text[:at] end, in a single-spaced text."""
        return self._after_words.match(text, at).end()  # type: ignore[union-attr]  # {0,n} always matches

    def makes_accessories(self, brand: Brand) -> bool:
        category = brand.category or ""
        known = self._makes_accessories.get(category)
        if known is None:
            folded = fold(category)
            known = self._makes_accessories[category] = any(c in folded for c in self.accessory_categories)
        return known

    def phrase_before(self, before: str, before_folded: str, brand: Brand, first: bool = True) -> str | None:
        """The connector or accessory word at the end of `before` (the title up to a brand mention), if any.

        `before_folded` is fold_lower(before): folding maps one character to one and never makes or
        unmakes a space, so its words fold the words of `before`, and windows of words are cut from
        both alike instead of being folded again.

        A later mention counts only after a connector ("Case for iPad Pro"); an accessory word
        opening the title describes the first mention ("Ốp lưng Kira X2")."""
        size = self.max_gap + 3
        # rsplit keeps the words before the last `size` in one piece, dropped by the slice.
        window = " ".join(before.rsplit(None, size)[-size:])
        window_folded = " ".join(before_folded.rsplit(None, size)[-size:])
        connector = self._connectors.last_in(window, window_folded)
        if connector is not None and len(window[connector[0] :].split()) <= self.max_gap:
            return connector[1]
        if self.makes_accessories(brand) or not first:
            return None
        size = self.max_gap + 2
        opening = " ".join(before.split(None, size)[:size])
        accessory = self._accessories.last_in(opening, " ".join(before_folded.split(None, size)[:size]))
        return accessory[1] if accessory else None

    def accessory_after(self, after: str, after_folded: str, brand: Brand) -> str | None:
        """An accessory word within a few words after the first mention: 'iPad Case', 'Apple Watch strap'.

        `after_folded` is fold_lower(after), as in phrase_before."""
        if self.makes_accessories(brand):
            return None
        size = self.after_tokens
        words = after.split(None, size)[:size]
        if not words:
            return None
        found = self._accessories_after.last_in(" ".join(words), " ".join(after_folded.split(None, size)[:size]))
        return found[1] if found else None


def _any_phrase(phrases: list[_Phrases]) -> PhraseScan | None:
    """One regex for DescriptiveRules.may_describe, or None when some phrase opens or closes on a
    character that is no letter or digit (its window edges could then match differently)."""
    readings = [" ".join(r.split()) for p in phrases for r in p.readings]
    if not all(r and r[0].isalnum() and r[-1].isalnum() for r in readings):
        return None
    return PhraseScan(readings)


@lru_cache(maxsize=1)
def default_rules() -> DescriptiveRules:
    return DescriptiveRules(json.loads(descriptive_data()))


def descriptive_data() -> bytes:
    return resources.files("classifier.data").joinpath(DESCRIPTIVE_FILE).read_bytes()
