"""The API's hold on the store: set it up at start-up, and keep trying while it is down.

The API must come up even when the store is not there yet (a container started before
Elasticsearch): it logs what is wrong, answers /healthz, says not-ready on /readyz and
503 on data routes, and keeps retrying set-up with backoff in the background.
"""

from __future__ import annotations

import logging
import threading

from api.board.documents import seed as seed_documents
from kcnguard.backoff import Backoff
from kcnguard.cases import intents
from kcnguard.cases.outbox import CaseEvents
from kcnguard.store import Store

log = logging.getLogger(__name__)


class StoreKeeper:
    def __init__(
        self, store: Store, admin_key: str = "", retry_max_seconds: float = 30.0, events: CaseEvents | None = None
    ) -> None:
        self.store = store
        # The bus handle for case events (kcnguard/cases/outbox.py): started and stopped with the keeper.
        self.events = events
        self.admin_key = admin_key
        self.retry_max_seconds = retry_max_seconds
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.last_error: str | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Try set-up once now; if the store is down, keep trying in the background."""
        if self.events is not None:
            self.events.start()
        if self._try_setup():
            return
        self._thread = threading.Thread(target=self._retry, name="api-store-setup", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.events is not None:
            self.events.close(timeout)

    def _retry(self) -> None:
        backoff = Backoff(first=0.5, longest=self.retry_max_seconds)
        while backoff.wait(self.stop):
            if self._try_setup():
                return

    def _register_admin_key(self) -> None:
        # Written once: registering it again at every start would undo an administrator's revocation
        # (or a narrowing of its scopes), and the key stays refused until KCNGUARD_ADMIN_KEY changes.
        known = self.store.find_api_key(self.admin_key)
        if known is None:
            self.store.put_api_key(self.admin_key, "admin (KCNGUARD_ADMIN_KEY)", "admin")
            log.info("registered the admin key from KCNGUARD_ADMIN_KEY")
        elif known.revoked_at is not None:
            log.warning(
                "the key in KCNGUARD_ADMIN_KEY was revoked at %s by %s and stays refused; set a new one",
                known.revoked_at,
                known.revoked_by,
            )

    def _try_setup(self) -> bool:
        try:
            self.store.setup()
            seed_documents(self.store)  # the legal documents page's editable seed, written once
            intents.redrive_all(self.store)  # case changes a stopped API process left half-made
            if self.admin_key:
                self._register_admin_key()
        except Exception as exc:  # any failure here means "not ready yet", never a crash
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("store set-up failed, API not ready; retrying with backoff: %s", self.last_error)
            return False
        if self.last_error:
            log.info("store set-up succeeded after earlier failures; API ready")
        self.last_error = None
        self.ready.set()
        return True
