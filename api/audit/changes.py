"""Audit entries for what the Board administers (agencies, enterprises, brands, documents, announcements).

Each change is kept whole, before and after, so the log answers who changed what to what without the
object's own history.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from kcnguard.cases import audit
from kcnguard.store import Store

# Timestamps the change itself sets: the entry's own time says when.
_UNCHANGING = {"created_at", "updated_at"}


def record_change(
    store: Store, actor: str, action: str, obj: str, before: BaseModel | None, after: BaseModel | None
) -> None:
    """Append one entry, e.g. action "agency.create" on object "agency:police-hn"."""
    audit.append(store, actor, action, obj, before=_kept(before), after=_kept(after))


def _kept(model: BaseModel | None) -> dict[str, Any] | None:
    return None if model is None else model.model_dump(mode="json", exclude=_UNCHANGING)
