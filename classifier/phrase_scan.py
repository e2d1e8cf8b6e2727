"""Finding many phrases in a text at once: one regex per vocabulary, laid out as a trie.

A listing is read against vocabularies of hundreds of phrases (brand names, counterfeit terms,
connectors). Scanning for each phrase in Python would cost once per phrase; these regexes find
them all in one pass in C, on token boundaries, the longest phrase winning at each place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def boundary_pattern(phrase: str) -> str:
    """A regex for a folded phrase on token boundaries; spaces inside it also match '-', '.', '_' or nothing."""
    parts = [re.escape(p) for p in phrase.split()]
    body = r"[\s.\-_/]*".join(parts)
    return rf"(?<![^\W_]){body}(?![^\W_])"


def alternation(phrases: list[str]) -> re.Pattern[str] | None:
    """One regex for many folded phrases on token boundaries, as boundary_pattern matches each.

    The phrases are laid out as a trie (one branch per next character), so the regex engine
    rejects a position on its first character instead of trying every phrase there: a scan
    stays cheap however large the lexicon or the brand registry grows. At one place the longest
    phrase wins.
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
    character in a tight loop and tries the phrase only there, a small share of the positions of
    a title. The text is read with a space in front, so a phrase at its start has one too. In a
    plain-ASCII text that character is tested against an ASCII class, cheaper than the Unicode
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
