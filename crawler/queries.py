"""Query expansion: from a brand's registered names to the spellings sellers actually type.

Sellers of fakes dodge marketplace filters by breaking a brand's name (N.I.K.E, NIK.E,
S.amsung, Ad1das) and buyers search without diacritics, so a crawl that only asks for the
registered name misses exactly the listings that matter. Every form here is one crawl job per
marketplace, so the list is ordered by yield (what buyers and sellers type most first) and cut
at a per-brand budget: the registered names always go first.
"""

from __future__ import annotations

import re
import unicodedata

from kcnguard.records import Brand
from kcnguard.text import fold

# Letter-for-digit swaps sellers use ("Ad1das", "R0lex"); one swap per form is what is seen most.
_LEET = {"i": "1", "o": "0", "e": "3", "a": "4", "s": "5"}
# Obfuscating a two-letter name gives noise, not listings ("L.G" is a query for everything).
_MIN_OBFUSCATE = 3
DEFAULT_BUDGET = 12


def strip_marks(text: str) -> str:
    """The same text without Vietnamese diacritics, keeping its case ("Sen Hồng" → "Sen Hong")."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def _key(query: str) -> str:
    return " ".join(query.casefold().split())


def obfuscations(name: str) -> list[str]:
    """The disguises of a one-word name, most used first; [] for names too short or of several words."""
    base = strip_marks(name).strip()
    if " " in base or len(base) < _MIN_OBFUSCATE or not base.isalnum():
        return []
    forms = [
        f"{base[0]}.{base[1:]}",  # S.amsung, O.PPO
        ".".join(base),  # N.I.K.E
        f"{base[:-1]}.{base[-1]}",  # NIK.E
    ]
    for letters in ("io", "eas"):  # i→1 and o→0 are the swaps seen most, so they go first
        at = next((i for i, ch in enumerate(base) if i > 0 and ch.lower() in letters), None)
        if at is not None:
            forms.append(base[:at] + _LEET[base[at].lower()] + base[at + 1 :])  # Ad1das, R0lex
            break
    forms.append(" ".join(base))  # N I K E
    return forms


def expand(brand: Brand, budget: int = DEFAULT_BUDGET) -> list[str]:
    """Every query to crawl for the brand, registered names first, minus negatives, at most `budget`."""
    words = [fold(word).strip() for word in brand.negative_keywords]
    negatives = [re.compile(rf"(?<!\w){re.escape(word)}(?!\w)") for word in words if word]
    candidates: list[str] = []
    names = brand.names
    candidates.extend(names)
    candidates.extend(strip_marks(name) for name in names)
    # "SenHong": sellers glue words to slip past exact-phrase filters.
    candidates.extend(strip_marks(name).replace(" ", "") for name in names if len(name.split()) == 2)
    for name in names:
        candidates.extend(obfuscations(name))
    seen: set[str] = set()
    queries: list[str] = []
    for query in candidates:
        query = " ".join(query.split())
        key = _key(query)
        folded = fold(query)
        if not query or key in seen or any(word.search(folded) for word in negatives):
            continue
        seen.add(key)
        queries.append(query)
        if len(queries) >= budget:
            break
    return queries
