"""Which registered brands a listing concerns, and whether it names them as its own or only to say what it fits.

A brand is matched by its name and aliases on token boundaries in the folded title and
description. A name seen only after undoing spelling tricks ("L.0.T.U.S", "n1ke") is an
obfuscated use, itself a counterfeit cue. Whether a named brand is only described (what a
product fits) is decided by classifier/descriptive_use.py, from the title's words around it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from classifier.descriptive_use import DescriptiveRules, default_rules
from classifier.keyword_build import keyword_builder
from classifier.memo import Kept, Memo
from classifier.normalize import Normalized, deobfuscate, fold, fold_lower, listing_text, normalize
from classifier.phrase_scan import PhraseScan, alternation
from kcnguard.records import Brand, Listing

# Aliases this short ("ip", "mc") name too many other things to count as a mention on their own.
MIN_ALIAS_CHARS = 3


# Not frozen: one is built per listing and brand, and a frozen dataclass is slower to build (every
# field set through object.__setattr__); nothing assigns to one after it is made.
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


# One is built per brand a text names: by keyword, through a function, so no dict of keywords is
# packed and unpacked per record (classifier/keyword_build.py).
_build_match = keyword_builder(BrandMatch)


@dataclass(frozen=True, slots=True)
class _Name:
    brand_id: str
    spelling: str
    folded: str
    hidden: str  # the folded spelling with tricks undone


def _disguised(folded: str) -> bool:
    """Whether a spelling, as written, hides the name: odd characters, or tricks undone change it."""
    return bool(_ODD_CHARACTERS.search(folded)) or deobfuscate(folded) != folded


_ODD_CHARACTERS = re.compile(r"[^a-z0-9\s&'-]")


def _compact(text: str) -> str:
    return _NOT_ALNUM.sub("", text)


_NOT_ALNUM = re.compile(r"[^a-z0-9]")


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
        names.append(_Name(brand_id=brand.brand_id, spelling=spelling, folded=folded, hidden=hidden))
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


class BrandMatcher:
    def __init__(
        self, brands: Sequence[Brand], rules: DescriptiveRules | None = None, memo: Memo | None = None
    ) -> None:
        self.brands = {b.brand_id: b for b in brands}
        self.rules = rules or default_rules()
        # Whether a spelling is disguised, per spelling: the same few names recur in many texts.
        self._spellings: Kept[str, bool] = (memo or Memo()).spellings
        compiled = {b.brand_id: _compile_names(b) for b in brands}
        self._names = {brand_id: names for brand_id, (names, _) in compiled.items()}
        all_names = [n for names in self._names.values() for n in names]
        # Most mentions are spelled as registered: those spellings are judged once, here.
        for name in all_names:
            self._disguised(name.folded)
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
            found.append(match or _build_match(brand=brand, name_found=False, via_query=True))
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
            return _build_match(brand=brand, name_found=False, negated_by=negated, via_query=via_query)
        lower, folded = text.lower, text.folded
        if len(plain_hits) == 1:
            # Most listings name the brand once: the same names and disguise, without the generators.
            s, e, _ = plain_hits[0]
            names: tuple[str, ...] = (lower[s:e],)
            alias_disguise = names[0] if self._disguised(folded[s:e]) else None
        else:
            names = tuple(dict.fromkeys(lower[s:e] for s, e, _ in plain_hits))
            # Judged on the words as written: "s.amsung" is a disguise even when "samsung" is the alias it hit.
            alias_disguise = next((lower[s:e] for s, e, _ in plain_hits if self._disguised(folded[s:e])), None)
        hidden_form = None
        if hidden_hit is not None:
            hidden_form = text.deobfuscated[hidden_hit[0] : hidden_hit[1]]
            names = (*names, hidden_form) if names else (hidden_form,)
        obfuscated_form = alias_disguise or hidden_form
        # The title's mentions are the ones found already when the title is the whole text.
        descriptive_phrase = self._descriptive(brand, title, plain_hits if title is text else None)
        return _build_match(
            brand=brand,
            name_found=True,
            names=names,
            obfuscated=obfuscated_form is not None,
            obfuscated_form=None if obfuscated_form is None else _original_spelling(text, obfuscated_form),
            descriptive=descriptive_phrase is not None,
            descriptive_phrase=descriptive_phrase,
            via_query=via_query,
        )

    def _disguised(self, folded: str) -> bool:
        known = self._spellings.get(folded)
        return self._spellings.keep(folded, _disguised(folded)) if known is None else known

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
            return _build_match(brand=brand, name_found=False, negated_by=negated, via_query=True)
        return _build_match(brand=brand, name_found=True, names=(m.group(),), abbreviated=True, via_query=True)

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
