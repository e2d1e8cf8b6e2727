"""What views depend on: the store (once it is ready) and the authenticated caller."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from api.auth.enums import Scope
from api.auth.models import Principal
from api.auth.service import authenticate, key_from_headers, require_scope
from api.i18n import Lang, lang_param
from api.lifecycle import StoreKeeper
from api.problems import store_unavailable
from kcnguard.cases.outbox import CaseEvents
from kcnguard.store import Store


# The dependencies that only read what is in memory are coroutines: FastAPI runs a plain function on a
# worker thread, a hop that cost more than the work. The ones that read the store stay plain functions.
async def get_keeper(request: Request) -> StoreKeeper:
    return request.app.state.keeper


async def get_store(keeper: Annotated[StoreKeeper, Depends(get_keeper)]) -> Store:
    if not keeper.ready.is_set():
        raise store_unavailable()
    return keeper.store


StoreDep = Annotated[Store, Depends(get_store)]
LangDep = Annotated[Lang, Depends(lang_param)]


async def get_events(keeper: Annotated[StoreKeeper, Depends(get_keeper)]) -> CaseEvents | None:
    return keeper.events


EventsDep = Annotated[CaseEvents | None, Depends(get_events)]


def get_principal(
    store: StoreDep,
    x_api_key: Annotated[str | None, Header(description="Your API key (or use Authorization: Bearer)")] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Principal:
    return authenticate(store, key_from_headers(x_api_key, authorization))


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def requires(scope: Scope) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency: the caller, provided its key carries `scope` (else 403)."""

    async def check(principal: PrincipalDep) -> Principal:
        require_scope(principal, scope)
        return principal

    check.__name__ = f"requires_{scope.value.replace(':', '_')}"
    return check
