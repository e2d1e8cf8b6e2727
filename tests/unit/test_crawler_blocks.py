"""Block and captcha detection on samples shaped like what the marketplaces and their CDNs send."""

from __future__ import annotations

import json

import pytest

from crawler.blocks import detect_block

URL = "https://shopee.vn/api/v4/search/search_items?keyword=vinamilk"

BLOCKED = [
    # (marketplace, status, body, headers, words the reason must hold)
    (
        "shopee",
        200,
        json.dumps({"error": 90309999, "is_customized": False, "is_login": False, "tracking_id": "5f1c-…"}),
        {},
        "anti-bot JSON",
    ),
    ("shopee", 403, json.dumps({"tracking_id": "ab12", "is_customized": True, "action_type": 2}), {}, "anti-bot JSON"),
    (
        "lazada",
        200,
        '<html><head><script src="//g.alicdn.com/sd/punish/punish.js"></script></head>'
        '<body><div id="nocaptcha" class="nc-container">slide to verify</div>'
        '<script>var x5secdata="abc"</script></body></html>',
        {},
        "punish",
    ),
    (
        "lazada",
        302,
        "",
        {"Location": "https://www.lazada.vn//_____tmd_____/punish?x5secdata=xyz&x5step=1"},
        "punish (slider captcha) redirect",
    ),
    (
        "lazada",
        200,
        json.dumps({"ret": ["FAIL_SYS_USER_VALIDATE", "RGV587_ERROR::SM::哎哟喂,被挤爆啦"], "data": {"url": "x"}}),
        {},
        "FAIL_SYS_USER_VALIDATE",
    ),
    (
        "tiki",
        429,
        json.dumps({"error": {"code": 429, "message": "Too Many Requests"}}),
        {"Retry-After": "30"},
        "rate limited",
    ),
    ("tiki", 200, json.dumps({"error": {"code": 429, "message": "Rate limit exceeded"}}), {}, "rate limited"),
    (
        "sendo",
        503,
        "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
        '<div id="cf-chl-widget"></div><script src="/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1"></script>',
        {"Server": "cloudflare"},
        "Cloudflare challenge",
    ),
    ("tiki", 403, "<html><body>blocked</body></html>", {"cf-mitigated": "challenge"}, "Cloudflare challenge"),
    (
        "webshop",
        200,
        "<html><body><h1>Our systems have detected unusual traffic from your computer network</h1>"
        '<div class="g-recaptcha" data-sitekey="x"></div></body></html>',
        {},
        "captcha page",
    ),
    ("tiki", 403, "<html><body><h1>403 Forbidden</h1></body></html>", {}, "HTTP 403 forbidden"),
    ("shopee", 429, "", {}, "HTTP 429"),
    ("sendo", 200, json.dumps({"status": 403, "error": {"code": 403, "message": "Access denied"}}), {}, "refusal"),
    ("tiki", 200, json.dumps({"message": "Please verify you are not a robot (captcha)"}), {}, "captcha JSON"),
]


@pytest.mark.parametrize(("marketplace", "status", "body", "headers", "words"), BLOCKED)
def test_blocks_and_captchas_are_named_with_marketplace_and_url(
    marketplace: str, status: int, body: str, headers: dict[str, str], words: str
) -> None:
    reason = detect_block(marketplace, status, URL, body.encode(), headers)
    assert reason is not None, body[:80]
    assert reason.startswith(f"{marketplace}: ") and reason.endswith(f"at {URL}") and words in reason


def test_a_redirected_url_to_punish_is_a_block_whatever_the_body() -> None:
    url = "https://www.lazada.vn/catalog/_____tmd_____/punish?x5secdata=1"
    assert "punish" in (detect_block("lazada", 200, url, b"<html>ok</html>") or "")


NOT_BLOCKED = [
    ("tiki", 200, json.dumps({"data": [{"id": 1, "name": "Sữa Vinamilk", "price": 30000}], "paging": {}})),
    ("shopee", 200, json.dumps({"error": None, "error_msg": None, "data": {"itemid": 1, "shopid": 2}})),
    # An empty search is an answer, not a block.
    ("shopee", 200, json.dumps({"items": None, "total_count": 0, "nomore": True})),
    ("tiki", 404, json.dumps({"error": {"code": 404, "message": "Product not found"}})),
    ("shopee", 200, json.dumps({"error": 4, "error_msg": None, "data": None})),
    # A product page may quote the words far down, in a review; only the head of a body is read.
    ("webshop", 200, "<html><body>" + "<p>Giày chạy bộ</p>" * 800 + "<p>robot captcha</p></body></html>"),
    ("tiki", 500, "<html><body>Internal error</body></html>"),
    # A big JSON answer is never an envelope, whatever its listings' titles say.
    ("tiki", 200, json.dumps({"data": [{"id": i, "name": "Ốp lưng chống captcha robot"} for i in range(600)]})),
]


@pytest.mark.parametrize(("marketplace", "status", "body"), NOT_BLOCKED)
def test_answers_removals_and_errors_are_not_blocks(marketplace: str, status: int, body: str) -> None:
    assert detect_block(marketplace, status, URL, body.encode()) is None
