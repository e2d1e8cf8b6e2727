"""Vietnamese text normalisation for matching terms and brand names in listing titles.

Sellers dodge marketplace filters by spelling brands apart ("N.I.K.E", "V-I-N-A"), swapping
letters for digits ("n1ke", "ad1d@s") or for look-alike letters from other scripts
("iρhone" with a Greek rho). Matching runs on folded text so "siêu cấp" and "sieu cap" are
one spelling, and on a de-obfuscated copy so the tricks are seen through — and noticed.
"""

from __future__ import annotations

import re
import unicodedata

from kcnguard.records import Listing

# Letters from other scripts that render like Latin ones; sellers use them to slip past filters.
_CONFUSABLES = str.maketrans(
    {
        "ρ": "p", "ο": "o", "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "τ": "t", "υ": "u", "χ": "x",
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ѕ": "s", "ј": "j",
        "ı": "i", "ⅰ": "i", "ℓ": "l",
    }
)  # fmt: skip
_ZERO_WIDTH = re.compile(r"[\u00ad\u200b-\u200f\u2060\ufeff]")
# Vietnamese letters whose diacritics NFD does not split off.
_STROKES = str.maketrans({"đ": "d", "Đ": "D", "ơ": "o", "ư": "u"})
# Single characters joined by separators: "n.i.k.e", "v-i-n-a", "d...a...s", "a*p*p*l*e".
_SPELLED_APART = re.compile(r"(?<![^\W_])(?:[a-z0-9@$][.\-_*·•/+'\s]{1,3}){2,}[a-z0-9@$](?![^\W_])")
_SPELL_SEPARATORS = re.compile(r"[.\-_*·•/+'\s]+")
# A separator inside a word ("a*ple", "mag/safe", "ni.ke"): the word is kept whole for matching.
_INNER_SEPARATOR = re.compile(r"(?<=[a-z])[.*·•/_](?=[a-z])")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_LEET_INSIDE = re.compile(r"[a-z][013457@$][a-z]")
# Only the rare tokens that may hide letters go through the per-token check: most titles have none.
_LEET_CANDIDATE = re.compile(r"[a-z0-9@$!]*(?:[a-z][013457@$][a-z]|[@$!])[a-z0-9@$!]*")
# "cvssss", "xịnnnnn": a letter typed four or more times is one letter stretched for attention.
# Spelt out rather than \1{3,}: the same matches, found sooner.
_STRETCHED = re.compile(r"([a-z])\1\1\1+")
# Any character four times running: cheaper to rule out than _STRETCHED itself (no class to test at
# each position), and true of few titles ("0000", "....").
_RUN_OF_FOUR = re.compile(r"(.)\1\1\1")
_HAS_LETTER = re.compile(r"[a-z]")
_VIETNAMESE_MARKS = re.compile(r"[\u0300-\u036f]|[đơư]")


def nfc_lower(text: str) -> str:
    """NFC, lower case, no zero-width characters, single spaces."""
    if not text.isascii():
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        if _ZERO_WIDTH.search(text):
            text = _ZERO_WIDTH.sub("", text)
    text = text.lower()
    # Most titles are typed single-spaced already: then splitting and joining again changes nothing.
    # A printable text holds no whitespace but the ASCII space (every other whitespace character is
    # a control or separator character, which are the non-printable ones), and is checked in C.
    if "  " in text or text[:1] == " " or text[-1:] == " " or not text.isprintable():
        return " ".join(text.split())
    return text


def _fold_char(char: str) -> str:
    # One character in, one out, so a span in the folded text is the same span in the lower-case text.
    return unicodedata.normalize("NFD", char.translate(_STROKES))[0]


def _fold_table() -> list[str]:
    # Latin letters with marks live below U+2000 (Vietnamese in U+1E00–U+1EFF); a table lookup per
    # character is what makes folding cheap enough to run on every listing. A list indexed by code
    # point translates faster than a dict (no hashing); str.translate leaves a character past its
    # end as it is (the IndexError is a LookupError).
    return [chr(code) if code < 0x80 else _fold_char(chr(code)) for code in range(0x2000)]


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Lower case without diacritics (đ→d too): 'Siêu Cấp' → 'sieu cap'; offsets match nfc_lower(text)."""
    return fold_lower(nfc_lower(text))


def fold_lower(lower: str) -> str:
    """fold() of a text already through nfc_lower()."""
    return lower if lower.isascii() else lower.translate(_FOLD)


def has_vietnamese_marks(text: str) -> bool:
    """Whether the text is typed with Vietnamese diacritics (many sellers type without)."""
    return bool(_VIETNAMESE_MARKS.search(unicodedata.normalize("NFD", nfc_lower(text))))


def collapse_spelled_apart(folded: str) -> str:
    """Join letters spelled apart: 'n.i.k.e air' → 'nike air', 'v - i - n - a' → 'vina'."""

    collapsed = _SPELLED_APART.sub(_join_spelled, folded)
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

    return _LEET_CANDIDATE.sub(swap, folded)


def deobfuscate(folded: str) -> str:
    # Each step is skipped when a cheap check shows it has nothing to do: most titles hide nothing.
    ascii = folded.isascii()
    text = folded if ascii else folded.translate(_CONFUSABLES)
    if (_MAY_BE_SPELLED_APART_IN_ASCII if ascii else _MAY_BE_SPELLED_APART).search(text):
        text = _SPELLED_APART.sub(_join_spelled, text)
    if _HAS_INNER_SEPARATOR.search(text):
        text = _INNER_SEPARATOR.sub("", text)
    if _MAY_HIDE_LETTERS.search(text):
        text = unleet(text)
    if _RUN_OF_FOUR.search(text) and _STRETCHED.search(text):
        return _STRETCHED.sub(r"\1", text)
    return text


def _join_spelled(match: re.Match[str]) -> str:
    spelled = match.group(0)
    # Digits spelled apart are sizes or ranges ("size 3-4-5"), not a hidden name.
    return _SPELL_SEPARATORS.sub("", spelled) if _HAS_LETTER.search(spelled) else spelled


# _INNER_SEPARATOR opening on the separator, so the engine skips every position that holds none.
_HAS_INNER_SEPARATOR = re.compile(r"[.*·•/_](?<=[a-z].)(?=[a-z])")
# Whether unleet may change anything: a symbol anywhere, or a digit between letters. Written to open
# on the rare characters so the engine skips every position that holds none of them.
_MAY_HIDE_LETTERS = re.compile(r"[013457@$!](?:(?<=[@$!])|(?<=[a-z].)(?=[a-z]))")
# What every text _SPELLED_APART matches holds: its last two characters and the separators before
# them. Opening on a separator, it is a fast scan where _SPELLED_APART tries a lookbehind at every
# position.
_MAY_BE_SPELLED_APART = re.compile(r"[.\-_*·•/+'\s][a-z0-9@$][.\-_*·•/+'\s]{1,3}[a-z0-9@$](?![^\W_])")
# The same for a plain-ASCII text, its separators spelt as ASCII characters (the whitespace ones are
# those \s matches): a class of literals is tested faster than one holding a Unicode category.
_ASCII_SEPARATORS = r"[.\-_*/+'\t-\r\x1c-\x1f ]"
_MAY_BE_SPELLED_APART_IN_ASCII = re.compile(
    rf"{_ASCII_SEPARATORS}[a-z0-9@$]{_ASCII_SEPARATORS}{{1,3}}[a-z0-9@$](?![^\W_])"
)


class Normalized:
    """One text in the spellings matching needs; computed once per listing.

    Every spelling is read for nearly every listing, so all are computed up front into slots:
    lazy properties cost more in lookups than the little work they could skip.
    """

    __slots__ = ("accented", "deobfuscated", "folded", "lower", "original")

    def __init__(self, original: str) -> None:
        self.original = original
        self.lower = nfc_lower(original)
        self.folded = fold_lower(self.lower)
        self.deobfuscated = deobfuscate(self.folded)
        # Folding changes a character exactly when it carries a mark (or is đ): the same answer as
        # has_vietnamese_marks, without decomposing the text again.
        self.accented = self.folded != self.lower

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Normalized) and other.original == self.original

    def __hash__(self) -> int:
        return hash(self.original)

    def __repr__(self) -> str:
        return f"Normalized(original={self.original!r})"


def normalize(text: str) -> Normalized:
    return Normalized(text)


def listing_text(listing: Listing) -> str:
    """What a listing says, as matching reads it: its title, and its description when it has one."""
    return listing.title if not listing.description else f"{listing.title}\n{listing.description}"
