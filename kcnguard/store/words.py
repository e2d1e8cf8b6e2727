"""Search words as both backends index and match them: folded so "giay" finds "giày" and "dong" finds "đồng".

Both backends receive text already folded here, so a query matches the same documents on
SQLite (FTS5) and Elasticsearch, whatever analyzers a server offers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kcnguard.text import fold

# Letters and digits; everything else (punctuation, quotes, FTS operators, underscores) separates words.
_WORD = re.compile(r"[^\W_]+")

# A search box gets a few words; beyond these limits the input is not a search but an attack or a paste accident.
MAX_QUERY_WORDS = 32
MAX_WORD_CHARS = 100


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def index_text(values: Iterable[object]) -> str:
    """The folded words of a document's text fields, space-separated, as both backends store them."""
    out: list[str] = []
    for value in values:
        if isinstance(value, str):
            out.extend(words(value))
        elif isinstance(value, list):
            out.extend(w for v in value if isinstance(v, str) for w in words(v))
    return " ".join(out)


def query_words(text: str) -> list[str]:
    """The distinct words a search must all find; ValueError when the text is too long to be a search."""
    found = list(dict.fromkeys(words(text)))
    if len(found) > MAX_QUERY_WORDS:
        raise ValueError(
            f"nội dung tìm kiếm quá dài: tối đa {MAX_QUERY_WORDS} từ / search text too long: "
            f"at most {MAX_QUERY_WORDS} words, got {len(found)}"
        )
    long = [w for w in found if len(w) > MAX_WORD_CHARS]
    if long:
        raise ValueError(
            f"từ tìm kiếm dài quá {MAX_WORD_CHARS} ký tự / a search word is longer than {MAX_WORD_CHARS} characters"
        )
    return found
