"""Errors as RFC 9457 problem details, Vietnamese first with English alongside.

Every error body is `application/problem+json` with `type`, `title` (English, as the RFC's
examples are), `status` and `detail` in the caller's language (`?lang=` or Accept-Language,
Vietnamese by default), plus `detail_vi` and `detail_en` so a client can show either.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.i18n import pick_lang
from kcnguard.errors import ConflictError, TransientError
from kcnguard.validation import field_name

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:kcnguard:problem:"

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Problem(Exception):
    """Raise from a view or a service to answer with a problem document."""

    def __init__(
        self,
        status: int,
        kind: str,
        vi: str,
        en: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(en)
        self.status, self.kind, self.vi, self.en = status, kind, vi, en
        self.headers = headers or {}
        self.extra = extra

    def body(self, lang: str, instance: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": TYPE_PREFIX + self.kind,
            "title": TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.en if lang == "en" else self.vi,
            "detail_vi": self.vi,
            "detail_en": self.en,
        }
        if instance:
            out["instance"] = instance
        out.update(self.extra)
        return out


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    headers = {"Content-Language": pick_lang(request), **problem.headers}
    return JSONResponse(
        problem.body(pick_lang(request), request.url.path), problem.status, headers=headers, media_type=PROBLEM_JSON
    )


# Pydantic's own messages are English and sometimes cryptic (a regex); these say what to do.
_VI_BY_TYPE = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường không được phép",
    "string_too_short": "quá ngắn (tối thiểu {min_length} ký tự)",
    "string_too_long": "quá dài (tối đa {max_length} ký tự)",
    "too_short": "quá ít phần tử (tối thiểu {min_length})",
    "too_long": "quá nhiều phần tử (tối đa {max_length})",
    "string_type": "phải là chuỗi",
    "int_parsing": "phải là số nguyên",
    "int_type": "phải là số nguyên",
    "float_parsing": "phải là số",
    "bool_parsing": "phải là true hoặc false",
    "greater_than": "phải lớn hơn {gt}",
    "greater_than_equal": "phải lớn hơn hoặc bằng {ge}",
    "less_than": "phải nhỏ hơn {lt}",
    "less_than_equal": "phải nhỏ hơn hoặc bằng {le}",
    "json_invalid": "JSON không hợp lệ",
    "model_attributes_type": "phải là một đối tượng JSON",
    "dict_type": "phải là một đối tượng JSON",
    "list_type": "phải là một danh sách",
    "date_from_datetime_parsing": "ngày không hợp lệ (dùng YYYY-MM-DD)",
    "date_parsing": "ngày không hợp lệ (dùng YYYY-MM-DD)",
}
_SLUG_HINT_EN = (
    "use 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. 'vinamilk-sua-tuoi')"
)
_SLUG_HINT_VI = (
    "dùng 1-64 ký tự gồm chữ thường không dấu, chữ số, '.', '_' hoặc '-', bắt đầu bằng chữ hoặc số "
    "(ví dụ 'vinamilk-sua-tuoi')"
)


def _field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for error in errors[:50]:
        loc = [str(p) for p in error.get("loc", ())]
        if loc[:1] == ["body"]:
            loc = loc[1:]
        field = field_name(loc, "(body)")
        kind = error.get("type", "value_error")
        en = str(error.get("msg", "invalid value"))
        ctx = error.get("ctx") or {}
        try:
            vi = _VI_BY_TYPE[kind].format(**ctx) if kind in _VI_BY_TYPE else en
        except (KeyError, IndexError, ValueError):
            vi = en
        if kind == "string_pattern_mismatch" and "a-z0-9" in str(ctx.get("pattern", "")):
            en, vi = f"not a valid identifier: {_SLUG_HINT_EN}", f"mã không hợp lệ: {_SLUG_HINT_VI}"
        elif kind == "value_error":
            # Our own validators write English sentences (e.g. the Nice class range); keep them whole.
            en = en.removeprefix("Value error, ")
            vi = f"giá trị không hợp lệ: {en}"
        out.append({"field": field, "type": kind, "message_vi": vi, "message_en": en})
    return out


def validation_problem(errors: Sequence[Any]) -> Problem:
    fields = _field_errors(errors)
    vi = "Dữ liệu không hợp lệ: " + "; ".join(f"{f['field']}: {f['message_vi']}" for f in fields)
    en = "Invalid input: " + "; ".join(f"{f['field']}: {f['message_en']}" for f in fields)
    return Problem(422, "validation", vi, en, errors=fields)


_HTTP_TEXT = {
    404: ("Không tìm thấy đường dẫn này.", "No such path."),
    405: ("Phương thức này không được hỗ trợ ở đường dẫn này.", "This method is not allowed on this path."),
}


def install(app: FastAPI) -> None:
    """Answer every error the app can raise with a problem document."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(request, validation_problem(exc.errors()))

    @app.exception_handler(ValidationError)
    async def _record_invalid(request: Request, exc: ValidationError) -> JSONResponse:
        # A record built from valid-looking input can still break a rule that spans fields.
        return problem_response(request, validation_problem(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc, BodyTooLarge):
            return problem_response(request, body_too_large(exc.max_bytes))
        vi, en = _HTTP_TEXT.get(exc.status_code, (str(exc.detail), str(exc.detail)))
        return problem_response(
            request, Problem(exc.status_code, f"http-{exc.status_code}", vi, en, headers=dict(exc.headers or {}))
        )

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> JSONResponse:
        return problem_response(
            request,
            Problem(
                409,
                "conflict",
                "Dữ liệu vừa bị thay đổi bởi một yêu cầu khác; hãy tải lại và thử lại.",
                f"The data changed under this request; reload and try again ({exc}).",
            ),
        )

    @app.exception_handler(TransientError)
    async def _unavailable(request: Request, exc: TransientError) -> JSONResponse:
        log.warning("request %s %s failed: store unavailable: %s", request.method, request.url.path, exc)
        return problem_response(request, store_unavailable())


class BodyTooLarge(StarletteHTTPException):
    """Raised while a body streams in past the cap; an HTTPException so FastAPI's body parsing lets it through."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413)
        self.max_bytes = max_bytes


def body_too_large(max_bytes: int) -> Problem:
    shown = f"{max_bytes:,}"
    return Problem(
        413,
        "body-too-large",
        f"Nội dung yêu cầu quá lớn: tối đa {shown.replace(',', '.')} byte.",
        f"The request body is too large: at most {shown} bytes.",
        max_bytes=max_bytes,
    )


def too_many_requests(kind: str, wait: float, vi: str, en: str) -> Problem:
    """429 with Retry-After: `wait` seconds rounded up (at least 1), put in `vi` and `en` at {seconds}."""
    seconds = max(1, math.ceil(wait))
    return Problem(
        429,
        kind,
        vi.format(seconds=seconds),
        en.format(seconds=seconds),
        headers={"Retry-After": str(seconds)},
        retry_after=seconds,
    )


def store_unavailable() -> Problem:
    return Problem(
        503,
        "store-unavailable",
        "Kho dữ liệu tạm thời không truy cập được; hãy thử lại sau ít phút.",
        "The data store is unreachable for now; try again in a few minutes.",
        headers={"Retry-After": "10"},
    )
