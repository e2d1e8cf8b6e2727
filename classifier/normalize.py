"""Vietnamese text normalisation for matching terms and brand names in listing titles.

Sellers dodge marketplace filters by spelling brands apart ("N.I.K.E", "V-I-N-A"), swapping
letters for digits ("n1ke", "ad1d@s") or for look-alike letters from other scripts
("iρhone" with a Greek rho). Matching runs on folded text so "siêu cấp" and "sieu cap" are
one spelling, and on a de-obfuscated copy so the tricks are seen through — and noticed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

# Letters from other scripts that render like Latin ones; sellers use them to slip past filters.
_CONFUSABLES = str.maketrans(
    {
        "ρ": "p", "ο": "o", "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "τ": "t", "υ": "u", "χ": "x",
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ѕ": "s", "ј": "j",
        "ı": "i", "ⅰ": "i", "ℓ": "l",
    }
)  # fmt: skip
_ZERO_WIDTH = re.compile(r"[\u00ad\u200b-\u200f\u2060\ufeff]")
_SPACES = re.compile(r"\s+")
# Vietnamese letters whose diacritics NFD does not split off.
_STROKES = str.maketrans({"đ": "d", "Đ": "D", "ơ": "o", "ư": "u"})
# Single characters joined by separators: "n.i.k.e", "v-i-n-a", "d...a...s", "a*p*p*l*e".
_SPELLED_APART = re.compile(r"(?<![^\W_])(?:[a-z0-9@$][.\-_*·•/+'\s]{1,3}){2,}[a-z0-9@$](?![^\W_])")
_SPELL_SEPARATORS = re.compile(r"[.\-_*·•/+'\s]+")
# A separator inside a word ("a*ple", "mag/safe", "ni.ke"): the word is kept whole for matching.
_INNER_SEPARATOR = re.compile(r"(?<=[a-z])[.*·•/_](?=[a-z])")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_TOKEN = re.compile(r"[a-z0-9@$!]+")
_LEET_INSIDE = re.compile(r"[a-z][013457@$][a-z]")
_HAS_LETTER = re.compile(r"[a-z]")
_VIETNAMESE_MARKS = re.compile(r"[\u0300-\u036f]|[đơư]")


def nfc_lower(text: str) -> str:
    """NFC, lower case, no zero-width characters, single spaces."""
    text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFC", text))
    return _SPACES.sub(" ", text.lower()).strip()


def _fold_char(char: str) -> str:
    # One character in, one out, so a span in the folded text is the same span in the lower-case text.
    base = unicodedata.normalize("NFD", char.translate(_STROKES))[0]
    return base


def fold(text: str) -> str:
    """Lower case without diacritics (đ→d too): 'Siêu Cấp' → 'sieu cap'; offsets match nfc_lower(text)."""
    return "".join(_fold_char(c) for c in nfc_lower(text))


def has_vietnamese_marks(text: str) -> bool:
    """Whether the text is typed with Vietnamese diacritics (many sellers type without)."""
    return bool(_VIETNAMESE_MARKS.search(unicodedata.normalize("NFD", nfc_lower(text))))


def collapse_spelled_apart(folded: str) -> str:
    """Join letters spelled apart: 'n.i.k.e air' → 'nike air', 'v - i - n - a' → 'vina'."""

    def join(match: re.Match[str]) -> str:
        spelled = match.group(0)
        # Digits spelled apart are sizes or ranges ("size 3-4-5"), not a hidden name.
        return _SPELL_SEPARATORS.sub("", spelled) if _HAS_LETTER.search(spelled) else spelled

    collapsed = _SPELLED_APART.sub(join, folded)
    return _INNER_SEPARATOR.sub("", collapsed)


def unleet(folded: str) -> str:
    """Digits and symbols read as letters, only inside words that have letters: 'n1ke' → 'nike', '500k' stays."""

    def swap(match: re.Match[str]) -> str:
        token = match.group(0)
        if not _HAS_LETTER.search(token):
            return token
        # A model number ("a11", "s23", "j330", "500k") keeps its digits; a digit standing for a
        # letter sits between letters ("n1ke", "l0tus") or a symbol does ("ad1d@s").
        if _LEET_INSIDE.search(token) or re.search(r"[@$!]", token):
            return token.translate(_LEET)
        return token

    return _TOKEN.sub(swap, folded)


def deobfuscate(folded: str) -> str:
    return unleet(collapse_spelled_apart(folded.translate(_CONFUSABLES)))


@dataclass(frozen=True)
class Normalized:
    """One text in the spellings matching needs; computed once per listing."""

    original: str

    @cached_property
    def lower(self) -> str:
        return nfc_lower(self.original)

    @cached_property
    def folded(self) -> str:
        return fold(self.original)

    @cached_property
    def deobfuscated(self) -> str:
        return deobfuscate(self.folded)

    @cached_property
    def accented(self) -> bool:
        return has_vietnamese_marks(self.original)


def normalize(text: str) -> Normalized:
    return Normalized(text)


def boundary_pattern(phrase: str) -> str:
    """A regex for a folded phrase on token boundaries; spaces inside it also match '-', '.', '_' or nothing."""
    parts = [re.escape(p) for p in phrase.split()]
    body = r"[\s.\-_/]*".join(parts)
    return rf"(?<![^\W_]){body}(?![^\W_])"
