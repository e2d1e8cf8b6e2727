"""Vietnamese text normalisation for matching terms and brand names in listing titles.

Sellers dodge marketplace filters by spelling brands apart ("N.I.K.E", "V-I-N-A"), swapping
letters for digits ("n1ke", "ad1d@s") or for look-alike letters from other scripts
("iρhone" with a Greek rho). Matching runs on folded text so "siêu cấp" and "sieu cap" are
one spelling, and on a de-obfuscated copy so the tricks are seen through — and noticed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

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
# Spelt out rather than \1{3,}: the same matches, found in half the time.
_STRETCHED = re.compile(r"([a-z])\1\1\1+")
# Any character four times running: a third faster to rule out than _STRETCHED itself (no class to
# test at each position), and true of few titles ("0000", "....").
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
    # point translates over twice as fast as a dict (no hashing); str.translate leaves a character
    # past its end as it is (the IndexError is a LookupError).
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


def boundary_pattern(phrase: str) -> str:
    """A regex for a folded phrase on token boundaries; spaces inside it also match '-', '.', '_' or nothing."""
    parts = [re.escape(p) for p in phrase.split()]
    body = r"[\s.\-_/]*".join(parts)
    return rf"(?<![^\W_]){body}(?![^\W_])"


def alternation(phrases: list[str]) -> re.Pattern[str] | None:
    """One regex for many folded phrases on token boundaries, as boundary_pattern matches each.

    The phrases are laid out as a trie (one branch per next character), so the regex engine
    rejects a position on its first character instead of trying every phrase there: a scan
    costs microseconds however large the lexicon or the brand registry grows. At one place
    the longest phrase wins.
    """
    return _alternation(_phrase_trie(phrases))


def _alternation(root: dict[str, dict]) -> re.Pattern[str] | None:
    if not root:
        return None
    if _boundary_first(root):
        # So many opening characters that nearly every position opens a branch: the one-character
        # boundary check first turns most of them away sooner (the same matches either way).
        return re.compile(r"(?<![^\W_])(?:" + _trie(root) + r")(?![^\W_])")
    # Few opening characters: the engine skips every position that holds none of them before
    # trying the pattern, so the boundary is checked only once a first character matched.
    return re.compile("(?:" + _trie(root, first=True) + r")(?![^\W_])")


class PhraseScan:
    """alternation(phrases) and a faster way to find its matches in a text: the same spans.

    A regex that opens on a lookbehind is tried by the engine at every position of the text. When
    alternation() opens on the boundary (a large vocabulary), the scan opens instead on the
    character before the phrase, one that is no letter or digit: the engine skips to such a
    character in a tight loop and tries the phrase only there, a fifth of the positions of a
    title. The text is read with a space in front, so a phrase at its start has one too. In a
    plain-ASCII text that character is tested against an ASCII class, faster than the Unicode
    category and the same for ASCII characters.
    """

    __slots__ = ("_ascii", "_unicode", "regex")

    def __init__(self, phrases: list[str]) -> None:
        root = _phrase_trie(phrases)
        self.regex = _alternation(root)
        self._ascii: re.Pattern[str] | None = None
        self._unicode: re.Pattern[str] | None = None
        if root and _boundary_first(root):
            body = "(" + _trie(root) + r")(?![^\W_])"
            self._ascii = re.compile("[^0-9A-Za-z]" + body)
            self._unicode = re.compile(r"[\W_]" + body)

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, the matched text) of each match, as regex.finditer(text) finds them."""
        if self._ascii is None or self._unicode is None:
            return [] if self.regex is None else [(m.start(), m.end(), m.group()) for m in self.regex.finditer(text)]
        padded = " " + text
        search = (self._ascii if text.isascii() else self._unicode).search
        found = []
        m = search(padded)
        while m is not None:
            start, end = m.span(1)
            found.append((start - 1, end - 1, padded[start:end]))
            # A phrase ending on a character that is no letter or digit leaves it as the boundary of a
            # phrase right after it: the next search starts on that character, not past it.
            m = search(padded, end - 1)
        return found

    def found_in(self, text: str, endpos: int | None = None) -> bool:
        """Whether regex.search(text, 0, endpos) finds a match."""
        end = len(text) if endpos is None else min(max(endpos, 0), len(text))
        if self._ascii is None or self._unicode is None:
            return self.regex is not None and self.regex.search(text, 0, end) is not None
        scan = self._ascii if text.isascii() else self._unicode
        return scan.search(" " + text, 0, end + 1) is not None


def _phrase_trie(phrases: list[str]) -> dict[str, dict]:
    """The trie of the phrases with their words one space apart (a space matches any joiner)."""
    return _trie_of(" ".join(phrase.split()) for phrase in phrases)


def _trie_of(strings: Iterable[str]) -> dict[str, dict]:
    """Nested dicts, one level per character; "" marks where a string ends."""
    root: dict[str, dict] = {}
    for string in strings:
        node = root
        for char in string:
            node = node.setdefault(char, {})
        node[""] = {}
    return root


def _boundary_first(root: dict[str, dict]) -> bool:
    return len(root) >= _BOUNDARY_FIRST_AT and "" not in root


def longest_first(words: list[str], on_boundaries: bool = False) -> re.Pattern[str]:
    """One regex for many literal words: at the leftmost place a word starts, the longest word there
    wins, as in an alternation sorted longest first; laid out as a trie for the same reason as
    alternation's. Anywhere, or only on token boundaries (then no word may be empty)."""
    root = _trie_of(words)
    if not on_boundaries:
        return re.compile(_trie(root, literal_spaces=True))
    if "" in root:
        raise ValueError("an empty word has no token boundaries to be matched on")
    # One alternative per opening character, each closing on the boundary (the same matches as the
    # trie closed once): every alternative then opens on a literal, so the engine skips straight to
    # the positions holding an opening character, also once joined with other such alternatives.
    # Wrapped in a group it would try every position.
    return re.compile("|".join(b + r"(?![^\W_])" for b in _branches(root, first=True, literal_spaces=True)))


_BETWEEN_WORDS = r"[\s.\-_/]*"
# Measured on real titles: from about this many distinct opening characters (a brand registry, the
# counterfeit lexicon) checking the boundary first scans faster; below it (connectors, market
# terms) the engine's skip over positions with no opening character wins.
_BOUNDARY_FIRST_AT = 15


def _trie(node: dict[str, dict], first: bool = False, literal_spaces: bool = False) -> str:
    branches = _branches(node, first, literal_spaces)
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    # Greedy: a longer phrase through this node is tried before the one ending here.
    return f"(?:{body})?" if "" in node else body


def _branches(node: dict[str, dict], first: bool = False, literal_spaces: bool = False) -> list[str]:
    """The trie's alternatives below a node, one per next character."""
    branches = []
    for char, child in sorted(node.items()):
        if char == "":
            continue
        literal = _BETWEEN_WORDS if char == " " and not literal_spaces else re.escape(char)
        if first:
            # The token boundary before the phrase, checked only once its first character matched.
            literal += rf"(?<![^\W_]{re.escape(char)})"
        branches.append(literal + _trie(child, literal_spaces=literal_spaces))
    return branches
