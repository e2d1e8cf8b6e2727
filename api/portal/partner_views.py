"""Partner agencies' pages: the cases referred to them, one case with its evidence digests and the
brand's IP data, acknowledge receipt, report an action. Through api/partners/service.py."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.auth.enums import Role, Scope
from api.partners.service import acknowledge, case_evidence, detail, list_referred, report_action
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
from api.portal.review_views import evidence_response
from api.portal.session import Signed
from api.problems import Problem
from kcnguard.errors import NotFound
from kcnguard.records import ActionKind, CaseState, PartnerAction

router = APIRouter(prefix="/partner")
ACTION_KINDS = tuple(k.value for k in ActionKind)


def partner_case_path(case_id: str) -> str:
    return f"/portal/partner/cases/{quote(case_id, safe='')}"


def _partner_only() -> Problem:
    return Problem(403, "partner-only", "Trang này dành cho cơ quan phối hợp.", "This page is for partner agencies.")


@router.get("/cases", response_class=HTMLResponse)
def partner_cases_page(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    page: PageNumber = 1,
    state: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    def body(signed: Signed) -> Response:
        if signed.principal.role is not Role.PARTNER:
            raise _partner_only()
        chosen_state = state if state in CASE_STATES else None
        items, total = list_referred(keeper.store, signed.principal, PAGE_SIZE, offset(page), chosen_state)
        return render(
            request,
            "partner_cases.html",
            lang,
            signed,
            items=items,
            total=total,
            agency=signed.principal.agency,
            states=CASE_STATES,
            state=state,
            **pager(page, total, {"lang": lang, "state": state}),
        )

    return guarded(request, keeper, lang, body, scope=Scope.PARTNER_CASES)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def partner_case_page(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    case_id: CaseId,
    notice: Notice = "",
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
        try:
            raw = case_evidence(keeper.store, request.app.state.settings, signed.principal, case_id, digest)
        except NotFound:
            raise missing from None
        return evidence_response(raw, digest)

    return guarded(request, keeper, lang, body, scope=Scope.PARTNER_CASES)


@router.post("/cases/{case_id}/acknowledge", response_class=HTMLResponse)
def acknowledge_submit(
    request: Request,
    keeper: KeeperDep,
    case_id: CaseId,
    version: VersionField = "",
    csrf: CsrfField = "",
    lang: LangField = "vi",
) -> Response:
    def change(signed: Signed) -> str:
        acknowledge(keeper.store, signed.principal, case_id, version, keeper.events)
        return partner_case_path(case_id)

    return change_and_return(request, keeper, form_lang(lang), csrf, Scope.PARTNER_CASES, change)


@router.post("/cases/{case_id}/action", response_class=HTMLResponse)
def action_submit(
    request: Request,
    keeper: KeeperDep,
    case_id: CaseId,
    kind: Annotated[str, Form(max_length=40)] = "",
    document_number: Annotated[str, Form(max_length=100)] = "",
    document_date: Annotated[str, Form(max_length=20)] = "",
    note: NoteField = "",
    version: VersionField = "",
    csrf: CsrfField = "",
    lang: LangField = "vi",
) -> Response:
    def change(signed: Signed) -> str:
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
        return partner_case_path(case_id)

    return change_and_return(request, keeper, form_lang(lang), csrf, Scope.PARTNER_CASES, change)
