"""Enterprises' pages (the Board's staff use them too): brands, a brand's page, register or edit a
brand, and "report a listing". Everything goes through api/brands/ and api/reports/ services."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.auth.enums import Role, Scope
from api.brands.service import create_brand, get_visible_brand, list_brands, replace_brand
from api.enterprises.service import get_enterprise
from api.i18n import Lang
from api.lifecycle import StoreKeeper
from api.portal.brand_form import FIELDS, BrandForm, parse, values_of
from api.portal.params import CsrfField, KeeperDep, LangField, NoteField, Notice, form_lang
from api.portal.rendering import LangDep, guarded, problem_message, redirect, render
from api.portal.session import Signed
from api.problems import Problem
from api.reports.models import ReporterKind, ReportIn
from api.reports.service import submit
from api.review.models import PageRequest, QueueFilters
from api.review.service import queue
from kcnguard.validation import problems

router = APIRouter()
BrandId = Annotated[str, Path(max_length=64)]

PAGE_SIZE = 100
# The highest-scored flagged listings shown on a brand's page; the queue has the rest.
BRAND_PAGE_LISTINGS = 10
MAX_PAGE = 100


def brand_path(brand_id: str) -> str:
    return f"/portal/brands/{quote(brand_id, safe='')}"


@router.get("/brands", response_class=HTMLResponse)
def brands_page(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    notice: Notice = "",
) -> Response:
    def body(signed: Signed) -> Response:
        found = list_brands(keeper.store, signed.principal, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        return render(
            request,
            "brands.html",
            lang,
            signed,
            brands=found.items,
            total=found.total,
            may_write=signed.principal.has(Scope.BRANDS_WRITE),
            page_number=page,
            prev_page=page - 1 if page > 1 else None,
            next_page=page + 1 if page * PAGE_SIZE < found.total and page < MAX_PAGE else None,
            notice=notice,
        )

    return guarded(request, keeper, lang, body, scope=Scope.BRANDS_READ)


def _new_values(keeper: StoreKeeper, signed: Signed) -> dict[str, str]:
    values = dict.fromkeys(FIELDS, "")
    principal = signed.principal
    if principal.role is Role.ENTERPRISE and principal.owner_id:
        values["owner_id"] = principal.owner_id
        enterprise = get_enterprise(keeper.store, principal.owner_id)
        values["owner_name"] = enterprise.name if enterprise else ""
    values["crawl_interval_minutes"] = "360"
    return values


def _form_page(
    request: Request, lang: Lang, signed: Signed, form: BrandForm, editing: str | None, status: int = 200
) -> HTMLResponse:
    return render(
        request,
        "brand_form.html",
        lang,
        signed,
        status,
        v=form.values,
        errors=form.errors,
        editing=editing,
        owner_fixed=signed.principal.role is Role.ENTERPRISE,
        action=f"{brand_path(editing)}/edit" if editing else "/portal/brands/new",
    )


@router.get("/brands/new", response_class=HTMLResponse)
def new_brand_page(request: Request, keeper: KeeperDep, lang: LangDep) -> Response:
    def body(signed: Signed) -> Response:
        return _form_page(request, lang, signed, BrandForm(_new_values(keeper, signed)), None)

    return guarded(request, keeper, lang, body, scope=Scope.BRANDS_WRITE)


async def _form_values(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(form.get(k, "")) for k in (*FIELDS, "csrf", "lang")}


def _save_brand(request: Request, keeper: KeeperDep, values: dict[str, str], editing: str | None) -> Response:
    chosen = form_lang(values.get("lang", ""))

    def body(signed: Signed) -> Response:
        if signed.principal.role is Role.ENTERPRISE:
            # An enterprise registers only its own brands: the field is shown, never trusted.
            values["owner_id"] = signed.principal.owner_id or ""
        form = parse(values, chosen)
        if form.brand is None:
            return _form_page(request, chosen, signed, form, editing, 422)
        try:
            if editing:
                brand = replace_brand(keeper.store, signed.principal, editing, form.brand)
            else:
                brand = create_brand(keeper.store, signed.principal, form.brand)
        except Problem as problem:
            if problem.status == 404:
                raise
            form.errors.append(problem_message(problem, chosen))
            return _form_page(request, chosen, signed, form, editing, problem.status)
        except ValidationError as exc:  # Brand's own cross-field rules, run again on the record
            form.errors.extend(problems(exc, "brand"))
            return _form_page(request, chosen, signed, form, editing, 422)
        return redirect(request, brand_path(brand.brand_id), lang=chosen, notice="saved")

    return guarded(request, keeper, chosen, body, csrf=values.get("csrf", ""), scope=Scope.BRANDS_WRITE)


@router.post("/brands/new", response_class=HTMLResponse)
async def new_brand_submit(request: Request, keeper: KeeperDep) -> Response:
    # The form is read asynchronously; the store work runs in the thread pool like every sync route.
    return await run_in_threadpool(_save_brand, request, keeper, await _form_values(request), None)


@router.get("/brands/{brand_id}", response_class=HTMLResponse)
def brand_page(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    brand_id: BrandId,
    notice: Notice = "",
) -> Response:
    def body(signed: Signed) -> Response:
        brand = get_visible_brand(keeper.store, signed.principal, brand_id)
        flagged = None
        if signed.principal.has(Scope.LISTINGS_READ):
            filters = QueueFilters(brand_id=brand.brand_id, source="crawl")
            flagged = queue(keeper.store, signed.principal, filters, PageRequest(BRAND_PAGE_LISTINGS, 0), lang)
        return render(
            request,
            "brand.html",
            lang,
            signed,
            brand=brand,
            flagged=flagged,
            may_write=signed.principal.has(Scope.BRANDS_WRITE),
            notice=notice,
            edit_path=f"{brand_path(brand.brand_id)}/edit",
        )

    return guarded(request, keeper, lang, body, scope=Scope.BRANDS_READ)


@router.get("/brands/{brand_id}/edit", response_class=HTMLResponse)
def edit_brand_page(request: Request, keeper: KeeperDep, lang: LangDep, brand_id: BrandId) -> Response:
    def body(signed: Signed) -> Response:
        brand = get_visible_brand(keeper.store, signed.principal, brand_id)
        return _form_page(request, lang, signed, BrandForm(values_of(brand)), brand.brand_id)

    return guarded(request, keeper, lang, body, scope=Scope.BRANDS_WRITE)


@router.post("/brands/{brand_id}/edit", response_class=HTMLResponse)
async def edit_brand_submit(request: Request, keeper: KeeperDep, brand_id: BrandId) -> Response:
    values = await _form_values(request)
    values["brand_id"] = brand_id  # the path names the brand; the id is not editable
    return await run_in_threadpool(_save_brand, request, keeper, values, brand_id)


REPORT_KINDS = tuple(k.value for k in ReporterKind)


@router.get("/report", response_class=HTMLResponse)
def report_page(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    received: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    def body(signed: Signed) -> Response:
        return render(
            request,
            "report.html",
            lang,
            signed,
            kinds=_kinds_for(signed),
            errors=[],
            v={},
            received=received,
        )

    return guarded(request, keeper, lang, body, scope=Scope.REPORTS_WRITE)


def _kinds_for(signed: Signed) -> tuple[str, ...]:
    # Only a signed-in enterprise reports as an enterprise (the service checks it too).
    if signed.principal.role is Role.ENTERPRISE:
        return (ReporterKind.ENTERPRISE.value,)
    return tuple(k for k in REPORT_KINDS if k != ReporterKind.ENTERPRISE.value)


@router.post("/report", response_class=HTMLResponse)
def report_submit(
    request: Request,
    keeper: KeeperDep,
    url: Annotated[str, Form(max_length=4096)] = "",
    note: NoteField = "",
    brand_id: Annotated[str, Form(max_length=64)] = "",
    reporter_kind: Annotated[str, Form(max_length=20)] = "",
    contact: Annotated[str, Form(max_length=400)] = "",
    csrf: CsrfField = "",
    lang: LangField = "vi",
) -> Response:
    chosen = form_lang(lang)

    def body(signed: Signed) -> Response:
        values = {"url": url, "note": note, "brand_id": brand_id, "reporter_kind": reporter_kind, "contact": contact}
        kinds = _kinds_for(signed)
        try:
            report_in = ReportIn.model_validate(
                {
                    "url": url.strip(),
                    "note": note.strip() or None,
                    "brand_id": brand_id.strip() or None,
                    "reporter_kind": reporter_kind if reporter_kind in kinds else kinds[0],
                    "contact": contact.strip() or None,
                }
            )
            report = submit(keeper.store, signed.principal, report_in)
        except ValidationError as exc:
            errors = problems(exc)
            status = 422
        except Problem as problem:
            if problem.status in (401, 403):
                raise
            errors, status = [problem_message(problem, chosen)], problem.status
        else:
            return redirect(request, "/portal/report", lang=chosen, received=report.report_id)
        page = {"kinds": kinds, "errors": errors, "v": values, "received": ""}
        return render(request, "report.html", chosen, signed, status, **page)

    return guarded(request, keeper, chosen, body, csrf=csrf, scope=Scope.REPORTS_WRITE)
