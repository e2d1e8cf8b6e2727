"""Which registered brands a listing concerns, and whether it names them as its own or only to say what it fits.

A brand is matched by its name and aliases on token boundaries in the folded title and
description. A name seen only after undoing spelling tricks ("L.0.T.U.S", "n1ke") is an
obfuscated use, itself a counterfeit cue. "Ốp lưng cho Kira Phone" names the phone only to
say what the case fits: lawful descriptive use, not a claim to be the brand's product.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from classifier.normalize import Normalized, boundary_pattern, deobfuscate, fold, normalize
from kcnguard.records import Brand, Listing

DESCRIPTIVE_FILE = "descriptive_patterns.json"
# Aliases this short ("ip", "mc") name too many other things to count as a mention on their own.
MIN_ALIAS_CHARS = 3


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class _Name:
    spelling: str
    plain: re.Pattern[str]  # on the folded text
    hidden: re.Pattern[str]  # on the de-obfuscated text
    obfuscated_alias: bool  # the alias is itself a disguised spelling ("a*ple", "iρhone")


def _compile_names(brand: Brand) -> list[_Name]:
    names: list[_Name] = []
    seen: set[str] = set()
    for spelling in brand.names:
        folded = fold(spelling)
        hidden = deobfuscate(folded)
        compact = re.sub(r"[^a-z0-9]", "", hidden)
        if len(compact) < MIN_ALIAS_CHARS or folded in seen:
            continue
        seen.add(folded)
        disguised = bool(re.search(r"[^a-z0-9\s&'-]", folded)) or hidden != folded
        names.append(
            _Name(spelling, re.compile(boundary_pattern(folded)), re.compile(boundary_pattern(hidden)), disguised)
        )
    return names


@dataclass(frozen=True)
class _Phrases:
    """Alternatives compiled into one regex for each text they are read on."""

    folded: re.Pattern[str] | None
    typed: re.Pattern[str] | None
    unaccented: re.Pattern[str] | None

    def last_in(self, window: Normalized) -> tuple[int, str] | None:
        found: tuple[int, str] | None = None
        for regex, haystack in (
            (self.folded, window.folded),
            (self.typed, window.lower),
            (None if window.accented else self.unaccented, window.folded),
        ):
            for m in regex.finditer(haystack) if regex else ():
                if found is None or m.end() > found[0]:
                    found = (m.end(), window.lower[m.start() : m.end()])
        return found


def _alternatives(spellings: list[str], on_typed: bool) -> re.Pattern[str] | None:
    chosen = sorted({s.lower() if on_typed else fold(s) for s in spellings}, key=len, reverse=True)
    return re.compile("|".join(boundary_pattern(s) for s in chosen)) if chosen else None


def _phrases(ascii_and_typed: list[str], unaccented: list[str]) -> _Phrases:
    return _Phrases(
        _alternatives([s for s in ascii_and_typed if s.isascii()], on_typed=False),
        _alternatives([s for s in ascii_and_typed if not s.isascii()], on_typed=True),
        _alternatives(unaccented, on_typed=False),
    )


class DescriptiveRules:
    def __init__(self, data: dict[str, Any]) -> None:
        self.max_gap = int(data.get("max_gap_tokens", 4))
        self._connectors = _phrases(data["connectors"], data.get("unaccented_connectors", []))
        self._accessories = _phrases(data["accessories"], data.get("unaccented_accessories", []))
        self.accessory_categories = [fold(c) for c in data.get("accessory_categories", [])]

    def makes_accessories(self, brand: Brand) -> bool:
        category = fold(brand.category or "")
        return any(c in category for c in self.accessory_categories)

    def phrase_before(self, before: str, brand: Brand) -> str | None:
        """The connector or accessory word at the end of `before` (the title up to a brand mention), if any."""
        words = before.split()
        connector = self._connectors.last_in(Normalized(" ".join(words[-(self.max_gap + 3) :])))
        if connector is not None:
            window = " ".join(words[-(self.max_gap + 3) :])
            if len(window[connector[0] :].split()) <= self.max_gap:
                return connector[1]
        if self.makes_accessories(brand):
            return None
        # An accessory word opening the title ("Ốp lưng Kira X2") describes what follows it.
        accessory = self._accessories.last_in(Normalized(" ".join(words[: self.max_gap + 2])))
        return accessory[1] if accessory else None


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
        self._names = {b.brand_id: _compile_names(b) for b in brands}
        self._negatives = {
            b.brand_id: [(k, re.compile(boundary_pattern(fold(k)))) for k in b.negative_keywords if fold(k).strip()]
            for b in brands
        }

    def match(self, listing: Listing, text: Normalized | None = None) -> list[BrandMatch]:
        text = text or normalize(listing_text(listing))
        title = normalize(listing.title)
        found: list[BrandMatch] = []
        for brand_id, brand in self.brands.items():
            match = self._match_brand(brand, text, title)
            via_query = listing.query_brand_id == brand_id
            if match is None and via_query:
                match = BrandMatch(brand, name_found=False, via_query=True)
            elif match is not None and match.negated_by and not via_query:
                continue
            elif match is not None and via_query:
                match = BrandMatch(**{**match.__dict__, "via_query": True})
            if match is not None:
                found.append(match)
        return found

    def _match_brand(self, brand: Brand, text: Normalized, title: Normalized) -> BrandMatch | None:
        plain_hits: list[tuple[int, int, str]] = []
        hidden_form: str | None = None
        alias_disguise: str | None = None
        for name in self._names[brand.brand_id]:
            for m in name.plain.finditer(text.folded):
                plain_hits.append((m.start(), m.end(), text.lower[m.start() : m.end()]))
                if name.obfuscated_alias and alias_disguise is None:
                    alias_disguise = text.lower[m.start() : m.end()]
            if hidden_form is None and not plain_hits:
                m = name.hidden.search(text.deobfuscated)
                if m:
                    hidden_form = m.group(0)
        if not plain_hits and hidden_form is None:
            return None
        negated = next((k for k, rx in self._negatives[brand.brand_id] if rx.search(text.folded)), None)
        if negated:
            return BrandMatch(brand, name_found=False, negated_by=negated)
        descriptive_phrase = self._descriptive(brand, title)
        names = tuple(dict.fromkeys(h[2] for h in plain_hits)) or (hidden_form or "",)
        obfuscated_form = alias_disguise or (hidden_form if not plain_hits else None)
        return BrandMatch(
            brand,
            name_found=True,
            names=names,
            obfuscated=obfuscated_form is not None,
            obfuscated_form=_original_spelling(text, obfuscated_form),
            descriptive=descriptive_phrase is not None,
            descriptive_phrase=descriptive_phrase,
        )

    def mask(self, brand_id: str, deobfuscated: str, token: str) -> str:
        """The de-obfuscated text with the brand's names replaced by one token."""
        for name in self._names.get(brand_id, []):
            deobfuscated = name.hidden.sub(f" {token} ", deobfuscated)
        return deobfuscated

    def _descriptive(self, brand: Brand, title: Normalized) -> str | None:
        """Descriptive when, in the title, a mention of the brand follows a connector or an accessory word."""
        for name in self._names[brand.brand_id]:
            m = name.plain.search(title.folded)
            if m:
                before = title.lower[: m.start()]  # lower and folded texts line up character for character
            else:
                hidden = name.hidden.search(title.deobfuscated)
                if hidden is None:
                    continue
                before = title.deobfuscated[: hidden.start()]
            phrase = self.rules.phrase_before(before, brand)
            if phrase:
                return phrase
        return None


def _original_spelling(text: Normalized, form: str | None) -> str | None:
    """The words of the listing that spell the hidden name, as the seller typed them ('L.0.T.U.S Step')."""
    if form is None:
        return None
    target = re.sub(r"[^a-z0-9]", "", form)
    words = text.lower.split()
    for size in range(1, min(len(words), 8) + 1):
        for i in range(len(words) - size + 1):
            window = " ".join(words[i : i + size])
            if target in re.sub(r"[^a-z0-9]", "", deobfuscate(fold(window))):
                return window
    return form
