"""The API's own collections, each declared in its domain's folder: what the API adds to the store.

The API makes its store know them at start (api/main.py), and `kcnguard setup` creates them with
the rest: Store.setup(COLLECTIONS).
"""

from __future__ import annotations

from api.agencies.store import AGENCIES
from api.auth.sessions import SESSIONS
from api.auth.users import USERS
from api.board.store import ANNOUNCEMENT_READS, ANNOUNCEMENTS, DOCUMENTS
from api.enterprises.store import ENTERPRISES
from api.reports.store import REPORTS
from api.shared_counters import COUNTERS
from kcnguard.store.schema import Collection

COLLECTIONS: tuple[Collection, ...] = (
    USERS,
    SESSIONS,
    ENTERPRISES,
    AGENCIES,
    REPORTS,
    DOCUMENTS,
    ANNOUNCEMENTS,
    ANNOUNCEMENT_READS,
    COUNTERS,
)
