"""Which registered brands a listing concerns, and whether it names them as its own or only to say what it fits.

A brand is matched by its name and aliases on token boundaries in the folded title and
description. A name seen only after undoing spelling tricks ("L.0.T.U.S", "n1ke") is an
obfuscated use, itself a counterfeit cue. "Ốp lưng cho Kira Phone" names the phone only to
say what the case fits: lawful descriptive use, not a claim to be the brand's product.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from classifier.normalize import (
    Normalized,
    PhraseScan,
    alternation,
    deobfuscate,
    fold,
    fold_lower,
    longest_first,
    normalize,
)
from kcnguard.records import Brand, Listing

DESCRIPTIVE_FILE = "descriptive_patterns.json"
# Aliases this short ("ip", "mc") name too many other things to count as a mention on their own.
MIN_ALIAS_CHARS = 3


# Not frozen: one is built per listing and brand, and a frozen dataclass takes three times as long
# to build (every field set through object.__setattr__); nothing assigns to one after it is made.
@dataclass(slots=True)
class BrandMatch:
    brand: Brand
    name_found: bool  # the brand is named in the listing (else it is here only as the crawl's query brand)
    names: tuple[str, ...] = ()  # the names as they appear in the listing
    obfuscated: bool = False
    obfuscated_form: str | None = None
    descriptive: bool = False
    descriptive_phrase: str | None = None
    negated_by: str | None = None  # a negative keyword of the brand found in the listing
    via_query: bool = False
    abbreviated: bool = False  # named only by a registered short code ("CV", "MC", "JD")


@dataclass(frozen=True, slots=True)
class _Name:
    brand_id: str
    spelling: str
    folded: str
    hidden: str  # the folded spelling with tricks undone
    obfuscated_alias: bool  # the alias is itself a disguised spelling ("a*ple", "iρhone")


@lru_cache(maxsize=65536)
def _disguised(folded: str) -> bool:
    return bool(_ODD_CHARACTERS.search(folded)) or deobfuscate(folded) != folded


_ODD_CHARACTERS = re.compile(r"[^a-z0-9\s&'-]")


@lru_cache(maxsize=65536)
def _compact(text: str) -> str:
    return _NOT_ALNUM.sub("", text)


_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def forget_spellings() -> None:
    """Drop the spellings of matched names kept across scorers (benchmarks of texts never seen need them gone)."""
    _disguised.cache_clear()
    _compact.cache_clear()


def _compile_names(brand: Brand) -> tuple[list[_Name], list[str]]:
    """The brand's names long enough to mean it, and its short codes (matched only in its own search results)."""
    names: list[_Name] = []
    short: list[str] = []
    seen: set[str] = set()
    for spelling in brand.names:
        folded = fold(spelling)
        hidden = deobfuscate(folded)
        if folded in seen or not _compact(hidden):
            continue
        seen.add(folded)
        if len(_compact(hidden)) < MIN_ALIAS_CHARS:
            short.append(hidden)
            continue
        names.append(_Name(brand.brand_id, spelling, folded, hidden, _disguised(folded)))
    return names, short


class _NameIndex:
    """Every name of every brand in one regex; a match is looked up by its letters and digits."""

    def __init__(self, spellings: list[tuple[str, _Name]]) -> None:
        self.owners: dict[str, list[_Name]] = {}
        for spelling, name in spellings:
            owners = self.owners.setdefault(_compact(spelling), [])
            if all(o.brand_id != name.brand_id for o in owners):
                owners.append(name)
        # Most matches are a spelling exactly as registered (words one space apart): those are looked up
        # as they are, without stripping them to letters and digits first.
        self.spelled = {" ".join(s.split()): self.owners[_compact(s)] for s, _ in spellings}
        self.scan = PhraseScan([s for s, _ in spellings])

    def find(self, haystack: str) -> list[tuple[int, int, _Name]]:
        spelled, owners = self.spelled, self.owners
        return [
            (start, end, name)
            for start, end, found in self.scan.spans(haystack)
            for name in spelled.get(found) or owners.get(_compact(found), ())
        ]


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


def listing_text(listing: Listing) -> str:
    return listing.title if not listing.description else f"{listing.title}\n{listing.description}"


class BrandMatcher:
    def __init__(self, brands: Sequence[Brand], rules: DescriptiveRules | None = None) -> None:
        self.brands = {b.brand_id: b for b in brands}
        self.rules = rules or default_rules()
        compiled = {b.brand_id: _compile_names(b) for b in brands}
        self._names = {brand_id: names for brand_id, (names, _) in compiled.items()}
        all_names = [n for names in self._names.values() for n in names]
        self._plain = _NameIndex([(n.folded, n) for n in all_names])
        self._hidden = _NameIndex([(n.hidden, n) for n in all_names])
        self._own_plain = {b: _NameIndex([(n.folded, n) for n in names]) for b, names in self._names.items()}
        self._own_hidden = {b: _NameIndex([(n.hidden, n) for n in names]) for b, names in self._names.items()}
        self._short = {brand_id: alternation(short) for brand_id, (_, short) in compiled.items() if short}
        negatives = {b.brand_id: alternation([fold(k) for k in b.negative_keywords if fold(k).strip()]) for b in brands}
        # Most brands have none: those are not looked up per listing.
        self._negatives = {brand_id: regex for brand_id, regex in negatives.items() if regex is not None}

    def match(self, listing: Listing, text: Normalized | None = None) -> list[BrandMatch]:
        text = text or normalize(listing_text(listing))
        plain: dict[str, list[tuple[int, int, _Name]]] = {}
        for hit in self._plain.find(text.folded):
            plain.setdefault(hit[2].brand_id, []).append(hit)
        hidden: dict[str, tuple[int, int, _Name]] = {}
        if text.deobfuscated != text.folded:
            # A name seen only once tricks are undone: one the plain text does not show as such.
            shown = {_compact(text.folded[s:e]) for hits in plain.values() for s, e, _ in hits}
            for hit in self._hidden.find(text.deobfuscated):
                if _compact(text.deobfuscated[hit[0] : hit[1]]) not in shown:
                    hidden.setdefault(hit[2].brand_id, hit)
        query = listing.query_brand_id if listing.query_brand_id in self.brands else None
        title: Normalized | None = None
        found: list[BrandMatch] = []
        for brand_id in dict.fromkeys([*plain, *hidden, *([query] if query else [])]):
            brand = self.brands[brand_id]
            via_query = brand_id == query
            match = None
            if brand_id in plain or brand_id in hidden:
                title = title or (text if not listing.description else normalize(listing.title))
                hits = plain.get(brand_id, [])
                match = self._named(brand, text, title, hits, hidden.get(brand_id), via_query)
            elif via_query:
                match = self._abbreviated(brand, text)
            if match is not None and match.negated_by and not via_query:
                continue
            found.append(match or BrandMatch(brand, name_found=False, via_query=True))
        return found

    def _named(
        self,
        brand: Brand,
        text: Normalized,
        title: Normalized,
        plain_hits: list[tuple[int, int, _Name]],
        hidden_hit: tuple[int, int, _Name] | None,
        via_query: bool,
    ) -> BrandMatch:
        # Most brands have no negative keywords: those are not looked for.
        negated = self._negated(brand, text) if brand.brand_id in self._negatives else None
        if negated:
            return BrandMatch(brand, name_found=False, negated_by=negated, via_query=via_query)
        lower, folded = text.lower, text.folded
        if len(plain_hits) == 1:
            # Most listings name the brand once: the same names and disguise, without the generators.
            s, e, _ = plain_hits[0]
            names: tuple[str, ...] = (lower[s:e],)
            alias_disguise = names[0] if _disguised(folded[s:e]) else None
        else:
            names = tuple(dict.fromkeys(lower[s:e] for s, e, _ in plain_hits))
            # Judged on the words as written: "s.amsung" is a disguise even when "samsung" is the alias it hit.
            alias_disguise = next((lower[s:e] for s, e, _ in plain_hits if _disguised(folded[s:e])), None)
        hidden_form = None
        if hidden_hit is not None:
            hidden_form = text.deobfuscated[hidden_hit[0] : hidden_hit[1]]
            names = (*names, hidden_form) if names else (hidden_form,)
        obfuscated_form = alias_disguise or hidden_form
        # The title's mentions are the ones found already when the title is the whole text.
        descriptive_phrase = self._descriptive(brand, title, plain_hits if title is text else None)
        # Positional: a dataclass is built faster so, and one is built per listing and brand.
        return BrandMatch(
            brand,
            True,  # name_found
            names,
            obfuscated_form is not None,
            None if obfuscated_form is None else _original_spelling(text, obfuscated_form),
            descriptive_phrase is not None,
            descriptive_phrase,
            None,  # negated_by
            via_query,
        )

    def _negated(self, brand: Brand, text: Normalized) -> str | None:
        """A negative keyword of the brand in the text ('bánh lotus' is not Lotus Step), as written."""
        regex = self._negatives.get(brand.brand_id)
        m = regex.search(text.folded) if regex is not None else None
        return text.lower[m.start() : m.end()] if m else None

    def _abbreviated(self, brand: Brand, text: Normalized) -> BrandMatch | None:
        """A registered short code ("CV" for Converse) counts only in the brand's own search results:
        alone, two letters mean too many other things."""
        short = self._short.get(brand.brand_id)
        if short is None:
            return None
        m = short.search(text.folded) or short.search(text.deobfuscated)
        if m is None:
            return None
        negated = self._negated(brand, text)
        if negated:
            return BrandMatch(brand, name_found=False, negated_by=negated, via_query=True)
        return BrandMatch(brand, name_found=True, names=(m.group(),), abbreviated=True, via_query=True)

    def mask(self, brand_id: str, deobfuscated: str, token: str) -> str:
        """The de-obfuscated text with the brand's names replaced by one token."""
        index = self._own_hidden.get(brand_id)
        if index is None or index.scan.regex is None:
            return deobfuscated
        return index.scan.regex.sub(f" {token} ", deobfuscated)

    def _descriptive(
        self, brand: Brand, title: Normalized, known: list[tuple[int, int, _Name]] | None = None
    ) -> str | None:
        """Descriptive when, in the title, a mention of the brand follows a connector or an accessory word
        (or, for a brand that makes no accessories, the first mention is followed by one: "iPad Case")."""
        # Offsets of a plain mention are offsets in the typed text too; a hidden one's only in its own text.
        text, folded = title.lower, title.folded
        mentions = known if known is not None else self._own_plain[brand.brand_id].find(folded)
        if not mentions and title.deobfuscated != title.folded:
            text = title.deobfuscated
            folded = fold_lower(text)
            mentions = self._own_hidden[brand.brand_id].find(text)
        if not mentions:
            return None
        rules = self.rules
        makes_accessories = rules.makes_accessories(brand)
        mentions = sorted(mentions)
        last_start = mentions[-1][0]
        # Windows of the de-obfuscated text are not runs of nfc_lower's text: may_describe holds only for these.
        # The windows read lie before a mention, or in the words after the first one.
        quiet = text is title.lower and not rules.may_describe(
            title, max(last_start, rules.after_end(text, mentions[0][1]))
        )
        if quiet and makes_accessories:
            return None
        # A brand that makes accessories is its own product in any list: only others' lists are read.
        # phrase() reads a list only for a mention after the first separator: one before the last
        # mention is all that needs finding.
        list_from = None if makes_accessories else rules.lists.first_separator(folded, last_start)
        for i, (start, end, _) in enumerate(mentions):
            phrase = None if quiet else rules.phrase_before(text[:start], folded[:start], brand, first=i == 0)
            if not phrase and list_from is not None:
                phrase = rules.lists.phrase(text, folded, start, end, list_from)
            if phrase:
                return phrase
            if i == 0 and not quiet:
                phrase = rules.accessory_after(text[end:], folded[end:], brand)
                if phrase:
                    return phrase
        return None


def _original_spelling(text: Normalized, form: str) -> str:
    """The words of the listing that spell the hidden name, as the seller typed them ('L.0.T.U.S Step')."""
    target = _NOT_ALNUM.sub("", form)
    words = text.lower.split()
    for size in range(1, min(len(words), 8) + 1):
        for i in range(len(words) - size + 1):
            window = " ".join(words[i : i + size])
            if target in _NOT_ALNUM.sub("", deobfuscate(fold(window))):
                return window
    return form
