"""Inspectors' case pages: the list, one case with its history and referrals, refer and move it.

All changes go through api/cases/service.py with the version the page was rendered from, so
two inspectors acting on one case at once get a conflict page (409), never a silent overwrite.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth.enums import Scope
from api.cases.service import INSPECTOR_TARGETS, get_visible_case, list_cases, refer, transition
from api.portal.params import (
    CASE_STATES,
    PAGE_SIZE,
    CaseId,
    CsrfField,
    KeeperDep,
    LangField,
    NoteField,
    Notice,
    PageNumber,
    VersionField,
    form_lang,
    offset,
    pager,
)
from api.portal.rendering import LangDep, change_and_return, guarded, render
from api.portal.service import agency_choices, brand_names
from api.portal.session import Signed
from api.problems import Problem
from kcnguard.records import CaseState
from kcnguard.records.case import ALLOWED_TRANSITIONS

router = APIRouter()
# Confirmed cases are referred; ones under way may take in another agency (Case.refer).
REFERABLE = frozenset({CaseState.CONFIRMED, CaseState.REFERRED, CaseState.ACKNOWLEDGED, CaseState.ACTIONED})


def case_path(case_id: str) -> str:
    return f"/portal/cases/{quote(case_id, safe='')}"


@router.get("/cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    page: PageNumber = 1,
    state: Annotated[str, Query(max_length=20)] = "",
    brand: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    def body(signed: Signed) -> Response:
        chosen_state = state if state in CASE_STATES else None
        items, total = list_cases(keeper.store, signed.principal, PAGE_SIZE, offset(page), chosen_state, brand or None)
        return render(
            request,
            "cases.html",
            lang,
            signed,
            items=items,
            total=total,
            states=CASE_STATES,
            state=state,
            brand=brand,
            brand_names=brand_names(keeper.store, signed.principal, [c.case.brand_id for c in items]),
            **pager(page, total, {"lang": lang, "state": state, "brand": brand}),
        )

    return guarded(request, keeper, lang, body, scope=Scope.CASES_WRITE)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    case_id: CaseId,
    notice: Notice = "",
) -> Response:
    def body(signed: Signed) -> Response:
        current = get_visible_case(keeper.store, signed.principal, case_id)
        case = current.record
        moves = sorted(ALLOWED_TRANSITIONS[case.state] & INSPECTOR_TARGETS, key=CASE_STATES.index)
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
    note: NoteField = "",
    version: VersionField = "",
    csrf: CsrfField = "",
    lang: LangField = "vi",
) -> Response:
    def change(signed: Signed) -> str:
        picked = [a.strip() for a in agencies if a.strip()]
        if not picked:
            raise Problem(422, "no-agency", "Hãy chọn ít nhất một cơ quan.", "Choose at least one agency.")
        refer(keeper.store, signed.principal, case_id, picked, note.strip() or None, version, keeper.events)
        return case_path(case_id)

    return change_and_return(request, keeper, form_lang(lang), csrf, Scope.CASES_WRITE, change)


@router.post("/cases/{case_id}/transition", response_class=HTMLResponse)
def transition_submit(
    request: Request,
    keeper: KeeperDep,
    case_id: CaseId,
    to: Annotated[str, Form(max_length=20)] = "",
    note: NoteField = "",
    version: VersionField = "",
    csrf: CsrfField = "",
    lang: LangField = "vi",
) -> Response:
    def change(signed: Signed) -> str:
        if to not in CASE_STATES:
            raise Problem(422, "bad-state", "Hãy chọn trạng thái mới.", "Choose the new state.")
        transition(keeper.store, signed.principal, case_id, CaseState(to), note.strip() or None, version, keeper.events)
        return case_path(case_id)

    return change_and_return(request, keeper, form_lang(lang), csrf, Scope.CASES_WRITE, change)
