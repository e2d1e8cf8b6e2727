"""Partner agencies' pages: the cases referred to them, one case with its evidence digests and the
brand's IP data, acknowledge receipt, report an action. Through api/partners/service.py."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.auth.enums import Role, Scope
from api.cases.service import list_cases
from api.deps import get_keeper
from api.i18n import Lang
from api.lifecycle import StoreKeeper
from api.partners.service import acknowledge, detail, evidence_digests, report_action
from api.portal.rendering import LangDep, guarded, redirect, render
from api.portal.review_views import evidence_response
from api.portal.session import Signed
from api.problems import Problem
from kcnguard.errors import NotFound
from kcnguard.evidence import open_evidence
from kcnguard.records import ActionKind, CaseState, PartnerAction

router = APIRouter(prefix="/partner")
KeeperDep = Annotated[StoreKeeper, Depends(get_keeper)]
CaseId = Annotated[str, Path(max_length=128)]

PAGE_SIZE = 50
MAX_PAGE = 200
ACTION_KINDS = tuple(k.value for k in ActionKind)
STATES = tuple(s.value for s in CaseState)


def partner_case_path(case_id: str) -> str:
    return f"/portal/partner/cases/{quote(case_id, safe='')}"


def _partner_only() -> Problem:
    return Problem(403, "partner-only", "Trang này dành cho cơ quan phối hợp.", "This page is for partner agencies.")


@router.get("/cases", response_class=HTMLResponse)
def partner_cases_page(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    state: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    def body(signed: Signed) -> Response:
        if signed.principal.role is not Role.PARTNER:
            raise _partner_only()
        chosen_state = state if state in STATES else None
        items, total = list_cases(keeper.store, signed.principal, PAGE_SIZE, (page - 1) * PAGE_SIZE, chosen_state)

        def query_for(number: int) -> str:
            return urlencode({"lang": lang, "state": state, "page": number})

        return render(
            request,
            "partner_cases.html",
            lang,
            signed,
            items=items,
            total=total,
            agency=signed.principal.agency,
            states=STATES,
            state=state,
            page_number=page,
            prev_query=query_for(page - 1) if page > 1 else None,
            next_query=query_for(page + 1) if page * PAGE_SIZE < total and page < MAX_PAGE else None,
        )

    return guarded(request, keeper, lang, body, scope=Scope.PARTNER_CASES)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def partner_case_page(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    case_id: CaseId,
    notice: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    def body(signed: Signed) -> Response:
        d = detail(keeper.store, signed.principal, case_id)
        return render(
            request,
            "partner_case.html",
            lang,
            signed,
            d=d,
            action_kinds=ACTION_KINDS,
            action_path=partner_case_path(d.case_id),
            # Reporting an action implies receipt, so it is offered from referral on.
            may_act=d.state in (CaseState.REFERRED, CaseState.ACKNOWLEDGED, CaseState.ACTIONED),
            notice=notice,
        )

    return guarded(request, keeper, lang, body, scope=Scope.PARTNER_CASES)


@router.get("/cases/{case_id}/evidence/{digest}")
def partner_evidence(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    case_id: CaseId,
    digest: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
) -> Response:
    def body(signed: Signed) -> Response:
        missing = Problem(
            404, "evidence-not-found", "Hồ sơ này không có bằng chứng đó.", "This case has no such evidence."
        )
        if digest not in evidence_digests(keeper.store, signed.principal, case_id):
            raise missing
        try:
            raw = open_evidence(request.app.state.settings).get(digest)
        except NotFound:
            raise missing from None
        return evidence_response(raw, digest)

    return guarded(request, keeper, lang, body, scope=Scope.PARTNER_CASES)


@router.post("/cases/{case_id}/acknowledge", response_class=HTMLResponse)
def acknowledge_submit(
    request: Request,
    keeper: KeeperDep,
    case_id: CaseId,
    version: Annotated[str, Form(max_length=100)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    lang: Annotated[str, Form(max_length=10)] = "vi",
) -> Response:
    chosen: Lang = "en" if lang == "en" else "vi"

    def body(signed: Signed) -> Response:
        acknowledge(keeper.store, signed.principal, case_id, version, keeper.events)
        return redirect(request, partner_case_path(case_id), lang=chosen, notice="saved")

    return guarded(request, keeper, chosen, body, csrf=csrf, scope=Scope.PARTNER_CASES)


@router.post("/cases/{case_id}/action", response_class=HTMLResponse)
def action_submit(
    request: Request,
    keeper: KeeperDep,
    case_id: CaseId,
    kind: Annotated[str, Form(max_length=40)] = "",
    document_number: Annotated[str, Form(max_length=100)] = "",
    document_date: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
    version: Annotated[str, Form(max_length=100)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    lang: Annotated[str, Form(max_length=10)] = "vi",
) -> Response:
    chosen: Lang = "en" if lang == "en" else "vi"

    def body(signed: Signed) -> Response:
        try:
            action = PartnerAction(
                kind=kind,
                document_number=document_number.strip() or None,
                document_date=date.fromisoformat(document_date) if document_date.strip() else None,
                note=note.strip() or None,
                actor=signed.principal.actor,
            )
        except (ValidationError, ValueError):
            raise Problem(
                422,
                "bad-action",
                "Hãy chọn loại xử lý và ghi ngày văn bản dạng YYYY-MM-DD.",
                "Choose the kind of action and give the document date as YYYY-MM-DD.",
            ) from None
        report_action(keeper.store, signed.principal, case_id, action, version, keeper.events)
        return redirect(request, partner_case_path(case_id), lang=chosen, notice="saved")

    return guarded(request, keeper, chosen, body, csrf=csrf, scope=Scope.PARTNER_CASES)
