"""What the portal's views take in common: the store keeper, a case id in a path, a list page's
number and its pager links, and the fields every form posts (CSRF token, language, version).

One definition each, so a limit (a page number's range, a note's length) means the same on
every page that takes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Form, Path, Query

from api.deps import get_keeper
from api.i18n import Lang
from api.lifecycle import StoreKeeper
from kcnguard.records import CaseState

KeeperDep = Annotated[StoreKeeper, Depends(get_keeper)]
CaseId = Annotated[str, Path(max_length=128)]
CASE_STATES = tuple(s.value for s in CaseState)

# The one-word message a page shows after a redirect ("saved").
Notice = Annotated[str, Query(max_length=20)]

PAGE_SIZE = 50
# Enough pages for any inspector's browsing; past it, the API's own paging is the tool.
MAX_PAGE = 200
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]

CsrfField = Annotated[str, Form(max_length=200)]
LangField = Annotated[str, Form(max_length=10)]
VersionField = Annotated[str, Form(max_length=100)]
NoteField = Annotated[str, Form(max_length=5000)]


def offset(page: int) -> int:
    """Where a page number starts in the list."""
    return (page - 1) * PAGE_SIZE


def pager(page: int, total: int, kept: Mapping[str, str]) -> dict[str, int | str | None]:
    """The pager's values for a list page (see _pager.html): this page's number and the query
    strings of the pages either side, None at either end. `kept` are the filters every link
    carries, in the order they appear in the link."""

    def query_for(number: int) -> str:
        return urlencode({**kept, "page": number})

    has_next = page * PAGE_SIZE < total and page < MAX_PAGE
    return {
        "page_number": page,
        "prev_query": query_for(page - 1) if page > 1 else None,
        "next_query": query_for(page + 1) if has_next else None,
    }


def form_lang(lang: str) -> Lang:
    # A form's hidden field carries the language its page was shown in, exactly "en" or "vi".
    return "en" if lang == "en" else "vi"
