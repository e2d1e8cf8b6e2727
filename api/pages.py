"""Paging limits shared by every list route."""

from __future__ import annotations

from kcnguard.store.base import MAX_WINDOW

# A page bigger than this is a bulk export, which is a different job than browsing.
MAX_LIMIT = 200
# Both backends page by offset; past MAX_WINDOW, Elasticsearch refuses (index.max_result_window).
MAX_OFFSET = MAX_WINDOW - MAX_LIMIT
