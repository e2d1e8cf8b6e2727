"""Is this response the marketplace refusing us? A pure function over status, URL, headers and body.

A block must never pass for "no results": a captcha page parsed as an empty search would
report a clean marketplace. So every response is checked here before it is parsed, and a
block ends the job as `blocked` with the reason this function gives.

The signs are those the marketplaces and their CDNs are known to send: Shopee's anti-bot JSON
(error 90309999, `is_customized`/`tracking_id`), Lazada's "punish" slider captcha (x5sec,
/punish redirects), Cloudflare's challenge ("Just a moment...", cf-chl), rate-limit envelopes,
and generic captcha/"unusual traffic" pages. Only the head of a body is read: block pages are
small, and a product page that mentions "robot" in a review must not count.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# Block pages are a few kB; a real page may quote any of the words further down.
_HEAD = 8192
# Larger JSON bodies are answers, not error envelopes (a Tiki search page of 40 items is ~40 kB).
_ENVELOPE_MAX = 16 * 1024
# Statuses that mean "not you, not now" when the body does not say more.
_REFUSALS = {401: "HTTP 401 unauthorised", 403: "HTTP 403 forbidden", 429: "HTTP 429 too many requests"}

# Shopee's anti-fraud answers: error codes around 90309999 with a tracking id, no data.
_SHOPEE_ANTIBOT_CODES = {90309999, 90309998, 90309997}
_CAPTCHA_HTML = re.compile(
    rb"captcha|g-recaptcha|h-captcha|hcaptcha|geetest|slide to verify|nc_iconfont|"
    rb"unusual traffic|are you a robot|not a robot|verify you are human|x\.com/punish|/_____tmd_____/punish",
)
_CLOUDFLARE = re.compile(rb"<title>\s*just a moment|cf-chl-|challenge-platform|cf_chl_opt|attention required!")
_LAZADA_PUNISH = re.compile(rb"x5sec|/punish\?|punish-component|baxia-punish|_____tmd_____")
_RATE_WORDS = re.compile(r"rate.?limit|too many requests|quá nhiều yêu cầu|request limit", re.I)


def detect_block(
    marketplace: str,
    status: int,
    url: str,
    body: bytes,
    headers: Mapping[str, str] | None = None,
) -> str | None:
    """The reason this response is a block or captcha ("shopee: captcha page at https://…"); None when it is not."""
    found = _why(status, url, body, {k.lower(): v for k, v in (headers or {}).items()})
    return f"{marketplace}: {found} at {url}" if found else None


def _why(status: int, url: str, body: bytes, headers: dict[str, str]) -> str | None:
    # Lower-cased once: case-insensitive patterns cost several times more on every page.
    head = body[:_HEAD].lower()
    location = headers.get("location", "")
    if "/punish" in url or "/punish" in location or "_____tmd_____" in url + location:
        return "anti-bot punish (slider captcha) redirect"
    if headers.get("cf-mitigated", "").lower() == "challenge" or _CLOUDFLARE.search(head):
        return "Cloudflare challenge page"
    if _LAZADA_PUNISH.search(head):
        return "anti-bot punish (slider captcha) page"
    is_json = head.lstrip()[:1] in (b"{", b"[")
    envelope = _json_head(body) if is_json else None
    if envelope is not None:
        reason = _json_block(envelope, status)
        if reason:
            return reason
    elif not is_json and _CAPTCHA_HTML.search(head):
        return "captcha page"
    if status in _REFUSALS:
        return _REFUSALS[status]
    if status == 503 and envelope is None and head.strip() and b"<html" not in head.lower()[:200]:
        return "HTTP 503 service unavailable"
    return None


def _json_head(body: bytes) -> Any:
    """The JSON document when the body is one small enough to be an envelope; None otherwise.

    Error and anti-bot envelopes are a few hundred bytes; decoding every 40 kB search page here
    as well as in the parser would cost the crawl a second JSON parse per page.
    """
    if len(body) > _ENVELOPE_MAX:
        return None
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _json_block(data: Any, status: int) -> str | None:
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    code = _int(error) if not isinstance(error, dict) else _int(error.get("code"))
    if code in _SHOPEE_ANTIBOT_CODES or (
        ("is_customized" in data or "tracking_id" in data) and not data.get("data") and not data.get("item")
    ):
        return f"anti-bot JSON (error {error!r})" if error is not None else "anti-bot JSON"
    # Lazada's API answers a blocked call with ret: ["FAIL_SYS_USER_VALIDATE", ...] and a punish URL.
    ret = data.get("ret")
    if isinstance(ret, list) and any(isinstance(r, str) and "USER_VALIDATE" in r for r in ret):
        return f"anti-bot JSON ({ret[0]})"
    url = data.get("url")
    if isinstance(url, str) and "punish" in url:
        return "anti-bot punish (slider captcha) JSON"
    message = " ".join(
        str(v) for v in (data.get("message"), data.get("msg"), data.get("error_msg"), _message_of(error)) if v
    )
    if status == 429 or code == 429 or _RATE_WORDS.search(message):
        return f"rate limited ({message[:120] or f'HTTP {status}'})"
    if "captcha" in message.lower() or "robot" in message.lower():
        return f"captcha JSON ({message[:120]})"
    if status in (401, 403) or code in (401, 403):
        return f"HTTP {code if code in (401, 403) else status} refusal ({message[:120] or 'no message'})"
    return None


def _message_of(error: Any) -> str | None:
    if isinstance(error, dict):
        value = error.get("message") or error.get("msg")
        return str(value) if value else None
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
