"""Inspectors' case pages: the list, one case with its history and referrals, refer and move it.

All changes go through api/cases/service.py with the version the page was rendered from, so
two inspectors acting on one case at once get a conflict page (409), never a silent overwrite.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth.enums import Scope
from api.cases.service import INSPECTOR_TARGETS, get_visible_case, list_cases, refer, transition
from api.deps import get_keeper
from api.i18n import Lang
from api.lifecycle import StoreKeeper
from api.portal.rendering import LangDep, guarded, redirect, render
from api.portal.service import agency_choices, brand_names
from api.portal.session import Signed
from api.problems import Problem
from kcnguard.records import CaseState
from kcnguard.records.case import ALLOWED_TRANSITIONS

router = APIRouter()
KeeperDep = Annotated[StoreKeeper, Depends(get_keeper)]
CaseId = Annotated[str, Path(max_length=128)]

PAGE_SIZE = 50
MAX_PAGE = 200
STATES = tuple(s.value for s in CaseState)
# Confirmed cases are referred; ones under way may take in another agency (Case.refer).
REFERABLE = frozenset({CaseState.CONFIRMED, CaseState.REFERRED, CaseState.ACKNOWLEDGED, CaseState.ACTIONED})


def case_path(case_id: str) -> str:
    return f"/portal/cases/{quote(case_id, safe='')}"


@router.get("/cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    state: Annotated[str, Query(max_length=20)] = "",
    brand: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    def body(signed: Signed) -> Response:
        chosen_state = state if state in STATES else None
        items, total = list_cases(
            keeper.store, signed.principal, PAGE_SIZE, (page - 1) * PAGE_SIZE, chosen_state, brand or None
        )

        def query_for(number: int) -> str:
            return urlencode({"lang": lang, "state": state, "brand": brand, "page": number})

        return render(
            request,
            "cases.html",
            lang,
            signed,
            items=items,
            total=total,
            states=STATES,
            state=state,
            brand=brand,
            brand_names=brand_names(keeper.store, signed.principal, [c.case.brand_id for c in items]),
            page_number=page,
            prev_query=query_for(page - 1) if page > 1 else None,
            next_query=query_for(page + 1) if page * PAGE_SIZE < total and page < MAX_PAGE else None,
        )

    return guarded(request, keeper, lang, body, scope=Scope.CASES_WRITE)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    case_id: CaseId,
    notice: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    def body(signed: Signed) -> Response:
        current = get_visible_case(keeper.store, signed.principal, case_id)
        case = current.record
        moves = sorted(ALLOWED_TRANSITIONS[case.state] & INSPECTOR_TARGETS, key=STATES.index)
        referable = case.state in REFERABLE
        return render(
            request,
            "case.html",
            lang,
            signed,
            case=case,
            version=current.version,
            moves=moves,
            referable=referable,
            agencies=agency_choices(keeper.store) if referable else [],
            brand_names=brand_names(keeper.store, signed.principal, [case.brand_id]),
            action_path=case_path(case.case_id),
            notice=notice,
        )

    return guarded(request, keeper, lang, body, scope=Scope.CASES_WRITE)


@router.post("/cases/{case_id}/refer", response_class=HTMLResponse)
def refer_submit(
    request: Request,
    keeper: KeeperDep,
    case_id: CaseId,
    agencies: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006 - read, never mutated
    note: Annotated[str, Form(max_length=5000)] = "",
    version: Annotated[str, Form(max_length=100)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    lang: Annotated[str, Form(max_length=10)] = "vi",
) -> Response:
    chosen: Lang = "en" if lang == "en" else "vi"

    def body(signed: Signed) -> Response:
        picked = [a.strip() for a in agencies if a.strip()]
        if not picked:
            raise Problem(422, "no-agency", "Hãy chọn ít nhất một cơ quan.", "Choose at least one agency.")
        refer(keeper.store, signed.principal, case_id, picked, note.strip() or None, version, keeper.events)
        return redirect(request, case_path(case_id), lang=chosen, notice="saved")

    return guarded(request, keeper, chosen, body, csrf=csrf, scope=Scope.CASES_WRITE)


@router.post("/cases/{case_id}/transition", response_class=HTMLResponse)
def transition_submit(
    request: Request,
    keeper: KeeperDep,
    case_id: CaseId,
    to: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
    version: Annotated[str, Form(max_length=100)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    lang: Annotated[str, Form(max_length=10)] = "vi",
) -> Response:
    chosen: Lang = "en" if lang == "en" else "vi"

    def body(signed: Signed) -> Response:
        if to not in STATES:
            raise Problem(422, "bad-state", "Hãy chọn trạng thái mới.", "Choose the new state.")
        transition(keeper.store, signed.principal, case_id, CaseState(to), note.strip() or None, version, keeper.events)
        return redirect(request, case_path(case_id), lang=chosen, notice="saved")

    return guarded(request, keeper, chosen, body, csrf=csrf, scope=Scope.CASES_WRITE)
