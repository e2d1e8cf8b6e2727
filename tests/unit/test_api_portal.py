"""The portal's sign-in, CSRF, navigation per role, languages and escaping (TestClient over the embedded store)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.portal.rendering import NAV
from api.portal.session import COOKIE, LOGIN_CSRF_COOKIE
from kcnguard.records import Case, CaseState
from kcnguard.store import Store
from tests.unit.portal_support import PASSWORD, csrf_of, seed_people, sign_in, sign_in_with_key
from tests.unit.test_api_support import Keys, scored, seed_brand, seed_scored

pytest_plugins = ["tests.unit.test_api_support"]

HOSTILE = "<script>alert(1)</script> Sữa Acme"


def _seed(store: Store) -> None:
    seed_brand(store, "sua-acme", "acme", name="Sữa Acme")
    seed_brand(store, "keo-beta", "beta", name="Kẹo Beta")
    seed_scored(
        store,
        [
            scored("sua-acme", "a1", 0.93, title=HOSTILE, price=1234000),
            scored("sua-acme", "a2", 0.71, title="Sữa Acme xách tay"),
            scored("keo-beta", "b1", 0.88, title="Kẹo Beta giả"),
        ],
    )


def test_login_page_is_vietnamese_self_contained_and_sets_a_login_csrf_cookie(client: TestClient) -> None:
    page = client.get("/portal/login")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text and "Tên đăng nhập" in page.text and "Mật khẩu" in page.text
    assert "https://" not in page.text  # no CDN, no external fonts
    assert "<script" not in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    cookie = page.headers["set-cookie"]
    assert LOGIN_CSRF_COOKIE in cookie and "HttpOnly" in cookie
    assert csrf_of(page.text) in cookie
    assert client.get("/portal/static/portal.css").status_code == 200
    assert "Tên đăng nhập" in client.get("/portal/login", headers={"Accept-Language": "en-US,en"}).text
    english = client.get("/portal/login?lang=en")
    assert '<html lang="en">' in english.text and "Sign in" in english.text and "Username" in english.text


def test_password_login_sets_a_lax_httponly_session_cookie_and_logout_ends_the_session(
    client: TestClient, store: Store
) -> None:
    seed_people(store)
    form = client.get("/portal/login")
    response = client.post(
        "/portal/login",
        data={"username": "lan.tt", "password": PASSWORD, "csrf": csrf_of(form.text), "lang": "vi"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/portal/queue?lang=vi"
    cookie = response.headers["set-cookie"]
    assert f"{COOKIE}=kcs_" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/portal" in cookie and "Secure" not in cookie  # plain http here; https gets Secure
    token = client.cookies.get(COOKIE)
    queue = client.get("/portal/queue")
    assert queue.status_code == 200 and "Trần Thị Lan" in queue.text
    out = client.post("/portal/logout", data={"csrf": csrf_of(queue.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].startswith("/portal/login")
    # The session is gone server-side too: replaying the old cookie leads back to the login page.
    client.cookies.set(COOKIE, token, path="/portal")
    assert client.get("/portal/queue", follow_redirects=False).status_code == 303


def test_session_cookie_is_secure_behind_https(settings, store: Store, keys: Keys) -> None:
    from api.main import create_app

    seed_people(store)
    with TestClient(create_app(settings, store), base_url="https://testserver") as secure_client:
        form = secure_client.get("/portal/login")
        assert "Secure" in form.headers["set-cookie"]
        response = secure_client.post(
            "/portal/login",
            data={"username": "lan.tt", "password": PASSWORD, "csrf": csrf_of(form.text)},
            follow_redirects=False,
        )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert f"{COOKIE}=kcs_" in cookie and "Secure" in cookie and "HttpOnly" in cookie


def test_wrong_password_and_bad_key_stay_on_login_with_a_message(client: TestClient, store: Store) -> None:
    seed_people(store)
    form = client.get("/portal/login")
    token = csrf_of(form.text)
    wrong = client.post("/portal/login", data={"username": "lan.tt", "password": "sai-mat-khau-1", "csrf": token})
    assert wrong.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in wrong.text
    assert COOKIE not in wrong.headers.get("set-cookie", "")
    bad_key = client.post("/portal/login", data={"key": "kcn_wrong", "csrf": token})
    assert bad_key.status_code == 401 and "Khóa API không hợp lệ" in bad_key.text


def test_login_without_the_csrf_value_is_refused(client: TestClient, store: Store, keys: Keys) -> None:
    seed_people(store)
    client.get("/portal/login")
    forged = client.post(
        "/portal/login", data={"username": "lan.tt", "password": PASSWORD, "csrf": "forged-value-123456789"}
    )
    assert forged.status_code == 403 and "Biểu mẫu đã hết hạn" in forged.text
    assert client.cookies.get(COOKIE) is None
    # Another site's form cannot know the cookie, and has no cookie of ours when it posts: also refused.
    client.cookies.clear()
    blind = client.post("/portal/login", data={"key": keys.inspector, "csrf": ""})
    assert blind.status_code == 403


def test_every_post_form_needs_the_session_csrf_token(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    sign_in_with_key(client, keys.inspector)
    queue = client.get("/portal/queue")
    token = csrf_of(queue.text)
    posts = [
        ("/portal/decide", {"keys": "demo:a1|sua-acme", "decision": "confirm"}),
        ("/portal/logout", {}),
        ("/portal/report", {"url": "https://shopee.vn/x-i.1.2", "reporter_kind": "worker"}),
        ("/portal/brands/new", {"brand_id": "x-brand", "owner_id": "acme", "owner_name": "A", "name": "X"}),
        ("/portal/cases/whatever/refer", {"agencies": "qltt", "version": "1"}),
        ("/portal/cases/whatever/transition", {"to": "confirmed", "version": "1"}),
    ]
    for path, data in posts:
        for sent in ("", "0" * 64, token[:-1] + ("0" if token[-1] != "0" else "1")):
            refused = client.post(path, data={**data, "csrf": sent}, follow_redirects=False)
            assert refused.status_code == 403, (path, sent)
            assert "Biểu mẫu đã hết hạn" in refused.text
    # Nothing was decided by the refused posts.
    case = store.get_case(Case.make_id("demo:a1", "sua-acme"))
    assert case is None or case.record.state is CaseState.OPEN
    # And the same decision with the right token goes through.
    done = client.post(
        "/portal/decide",
        data={"keys": "demo:a1|sua-acme", "decision": "confirm", "csrf": token, "next": "/portal/queue"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    confirmed = store.get_case(Case.make_id("demo:a1", "sua-acme"))
    assert confirmed is not None and confirmed.record.state is CaseState.CONFIRMED


def test_csrf_tokens_differ_between_sessions(client: TestClient, store: Store, keys: Keys) -> None:
    sign_in_with_key(client, keys.inspector)
    first = csrf_of(client.get("/portal/queue").text)
    client.cookies.clear()
    sign_in_with_key(client, keys.admin)
    second = csrf_of(client.get("/portal/queue").text)
    assert first != second
    refused = client.post("/portal/decide", data={"keys": "x", "decision": "confirm", "csrf": first})
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("who", "home", "shown", "hidden"),
    [
        ("lan.tt", "/portal/queue", ["/portal/cases", "/portal/board/dashboard", "/portal/board/monthly"], []),
        ("acme.user", "/portal/brands", ["/portal/report", "/portal/board/documents"], ["/portal/cases?", "dashboard"]),
        (
            "qltt.user",
            "/portal/partner/cases",
            ["/portal/partner/cases", "/portal/board/documents"],
            ["/portal/queue", "/portal/brands", "dashboard"],
        ),
    ],
)
def test_navigation_follows_the_role(
    client: TestClient, store: Store, who: str, home: str, shown: list[str], hidden: list[str]
) -> None:
    seed_people(store)
    location = sign_in(client, who)
    assert location.startswith(home)
    page = client.get(location)
    assert page.status_code == 200, page.text
    for path in shown:
        assert f'href="{path}' in page.text, path
    for fragment in hidden:
        assert fragment not in page.text.split("<main>")[0], fragment


def test_every_role_has_nav_entries_and_every_entry_has_both_languages() -> None:
    from api.auth.enums import Role
    from api.portal.texts import TEXTS

    for role in Role:
        assert NAV[role], role
        for item in NAV[role]:
            assert item.text in TEXTS["vi"] and item.text in TEXTS["en"]


def test_queue_lists_listings_escaped_highest_score_first(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    sign_in_with_key(client, keys.inspector)
    html = client.get("/portal/queue").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Sữa Acme" in html
    assert 'href="https://demo.example/item/a1"' in html
    assert "1.234.000 ₫" in html and "Shop a1" in html and "93%" in html
    assert "Tiêu đề có từ &#39;hàng nhái&#39;" in html  # reasons, escaped, in Vietnamese
    assert "Kẹo Beta giả" in html  # the inspector sees every brand
    assert html.index("item/a1") < html.index("item/b1") < html.index("item/a2")


def test_lang_en_switches_every_text(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    sign_in_with_key(client, keys.inspector, lang="en")
    html = client.get("/portal/queue?lang=en").text
    assert '<html lang="en">' in html
    assert "Review queue" in html and "Hàng chờ xem xét" not in html
    assert "Title says &#39;replica&#39;" in html
    assert "1,234,000 VND" in html
    assert "Tiếng Việt" in html  # the switch back
    vi = client.get("/portal/queue").text
    assert "Hàng chờ xem xét" in vi and 'hreflang="en"' in vi


def test_old_flagged_address_goes_to_the_queue(client: TestClient, keys: Keys) -> None:
    moved = client.get("/portal/flagged?brand=sua-acme&q=x", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"].startswith("/portal/queue?")
    assert "brand=sua-acme" in moved.headers["location"]


def test_signed_out_pages_go_to_login(client: TestClient) -> None:
    for path in ("/portal/", "/portal/queue", "/portal/cases", "/portal/brands", "/portal/partner/cases"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/portal/login"), path


def test_both_languages_name_every_text_and_every_case_state() -> None:
    from api.portal.texts import TEXTS
    from kcnguard.records import ActionKind, CaseState

    assert TEXTS["vi"].keys() == TEXTS["en"].keys()
    for state in CaseState:
        assert f"state_{state.value}" in TEXTS["vi"]
    for kind in ActionKind:
        assert f"action_{kind.value}" in TEXTS["vi"]


def test_after_a_decision_the_page_says_saved_once() -> None:
    from api.portal.review_views import with_notice

    assert with_notice("/portal/queue", "vi") == "/portal/queue?lang=vi&notice=saved"
    again = with_notice("/portal/queue?brand=x&notice=saved&lang=en", "vi")
    assert again == "/portal/queue?brand=x&lang=vi&notice=saved"


def test_a_page_answering_a_post_switches_language_through_home(client: TestClient, keys: Keys) -> None:
    sign_in_with_key(client, keys.inspector)
    token = csrf_of(client.get("/portal/queue").text)
    refused = client.post("/portal/decide", data={"keys": "demo:x|y", "decision": "maybe", "csrf": token})
    assert refused.status_code == 422 and "Hãy chọn một quyết định" in refused.text
    assert 'href="/portal/?lang=en" hreflang="en"' in refused.text


def test_every_nav_link_opens_for_its_role(client: TestClient, keys: Keys) -> None:
    from api.auth.enums import Role

    for role, key in (
        (Role.ADMIN, keys.admin),
        (Role.INSPECTOR, keys.inspector),
        (Role.ENTERPRISE, keys.acme),
        (Role.PARTNER, keys.partner),
    ):
        client.cookies.clear()
        sign_in_with_key(client, key)
        for item in NAV[role]:
            page = client.get(item.path)
            assert page.status_code == 200, (role, item.path, page.status_code)
            assert 'aria-current="page"' in page.text, (role, item.path)  # the nav marks where we are


def test_guessing_passwords_in_the_portal_is_braked_like_the_api(client: TestClient, store: Store) -> None:
    from api.auth.login_guard import LOGIN_FAILURES_PER_USER_AND_ADDRESS

    seed_people(store)
    token = csrf_of(client.get("/portal/login").text)
    for _ in range(LOGIN_FAILURES_PER_USER_AND_ADDRESS):
        wrong = client.post("/portal/login", data={"username": "lan.tt", "password": "doan-mo-123", "csrf": token})
        assert wrong.status_code == 401
    braked = client.post("/portal/login", data={"username": "lan.tt", "password": PASSWORD, "csrf": token})
    assert braked.status_code == 429 and "Đăng nhập sai quá nhiều lần" in braked.text
    assert "retry-after" in braked.headers and client.cookies.get(COOKIE) is None


def test_a_link_opened_signed_out_comes_back_after_sign_in_but_never_leaves_the_portal(
    client: TestClient, store: Store
) -> None:
    from urllib.parse import parse_qs, urlsplit

    seed_people(store)
    _seed(store)
    bounced = client.get("/portal/listings/demo:a2", params={"lang": "vi"}, follow_redirects=False)
    assert bounced.status_code == 303
    back = parse_qs(urlsplit(bounced.headers["location"]).query)["next"][0]
    assert back == "/portal/listings/demo:a2?lang=vi"
    form = client.get(bounced.headers["location"])
    assert f'name="next" value="{back}"' in form.text
    data = {"username": "lan.tt", "password": PASSWORD, "csrf": csrf_of(form.text), "next": back}
    signed = client.post("/portal/login", data=data, follow_redirects=False)
    assert signed.headers["location"] == back
    for outside in ("https://evil.example/portal/", "//evil.example/portal/x", "/v1/keys"):
        client.cookies.clear()
        form = client.get("/portal/login")  # a sign-in uses up the login form's CSRF cookie
        data = {"username": "lan.tt", "password": PASSWORD, "csrf": csrf_of(form.text), "next": outside}
        signed = client.post("/portal/login", data=data, follow_redirects=False)
        assert signed.headers["location"] == "/portal/queue?lang=vi", outside
