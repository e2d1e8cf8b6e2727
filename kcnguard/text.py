"""Text forms every service compares by: one folding of Vietnamese, so "giay" finds "giày"."""

from __future__ import annotations

import unicodedata

# đ/Đ are letters of their own in Unicode, not d plus a mark, so decomposition alone keeps them.
_LETTERS = str.maketrans({"đ": "d", "Đ": "D"})


def fold(text: str) -> str:
    """Lower-case and without diacritics."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
