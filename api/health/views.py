"""Probes: /healthz says the process is alive (and whether the store answers), /readyz gates traffic."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import get_keeper
from api.lifecycle import StoreKeeper

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    store: str
    ready: bool
    error: str | None = None


def _check(keeper: StoreKeeper) -> Health:
    try:
        keeper.store.ping()
        reachable, error = "reachable", keeper.last_error
    except Exception as exc:  # a probe reports, it does not raise
        reachable, error = "unreachable", f"{type(exc).__name__}: {exc}"
    return Health(status="ok", store=reachable, ready=keeper.ready.is_set() and reachable == "reachable", error=error)


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers; also reports the store")
def healthz(keeper: Annotated[StoreKeeper, Depends(get_keeper)]) -> Health:
    return _check(keeper)


@router.get(
    "/readyz",
    response_model=Health,
    summary="Readiness: 200 once the store is set up and reachable, else 503",
    responses={503: {"model": Health}},
)
def readyz(keeper: Annotated[StoreKeeper, Depends(get_keeper)]) -> JSONResponse:
    health = _check(keeper)
    if not health.ready:
        health.status = "not ready"
    return JSONResponse(health.model_dump(), status_code=200 if health.ready else 503)
