"""The portal: sign in with a key, read flagged listings, escaped, in Vietnamese or English."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.portal.views import COOKIE
from kcnguard.store import Store
from tests.unit.test_api_support import Keys, scored, seed_brand, seed_scored

# The shared fixtures (store, settings, keys, client) live in the support module.
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


def _sign_in(client: TestClient, key: str, lang: str = "vi") -> None:
    response = client.post("/portal/login", data={"key": key, "lang": lang}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/portal/flagged?lang={lang}"
    cookie = response.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/portal" in cookie


def test_login_page_is_vietnamese_and_self_contained(client: TestClient) -> None:
    page = client.get("/portal/login")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text and "Khóa API" in page.text and "Đăng nhập" in page.text
    assert "https://" not in page.text  # no CDN, no external fonts
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none' covers it
    assert client.get("/portal/static/portal.css").status_code == 200
    english = client.get("/portal/login?lang=en")
    assert '<html lang="en">' in english.text and "Sign in" in english.text


def test_portal_without_a_key_goes_to_login(client: TestClient) -> None:
    home = client.get("/portal/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"].startswith("/portal/login")
    flagged = client.get("/portal/flagged", follow_redirects=False)
    assert flagged.status_code == 303 and flagged.headers["location"].startswith("/portal/login")


def test_bad_key_stays_on_login_with_a_message(client: TestClient) -> None:
    response = client.post("/portal/login", data={"key": "kcn_wrong"}, follow_redirects=False)
    assert response.status_code == 401
    assert "Khóa API không hợp lệ" in response.text
    assert "set-cookie" not in response.headers


def test_flagged_page_lists_listings_escaped(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    _sign_in(client, keys.inspector)
    page = client.get("/portal/flagged")
    assert page.status_code == 200
    html = page.text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Sữa Acme" in html
    assert 'href="https://demo.example/item/a1"' in html
    assert "1.234.000 ₫" in html and "Shop a1" in html and "93%" in html
    assert "Tiêu đề có từ &#39;hàng nhái&#39;" in html  # reasons, escaped, in Vietnamese
    assert "Kẹo Beta giả" in html  # the inspector sees every brand
    # Highest score first.
    assert html.index("item/a1") < html.index("item/b1") < html.index("item/a2")


def test_lang_en_switches_the_page(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    _sign_in(client, keys.inspector, lang="en")
    html = client.get("/portal/flagged?lang=en").text
    assert '<html lang="en">' in html
    assert "Flagged listings" in html and "Tin đăng nghi vấn" not in html
    assert "Title says &#39;replica&#39;" in html
    assert "1,234,000 VND" in html


def test_enterprise_sees_only_its_own_brands_in_the_portal(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    _sign_in(client, keys.acme)
    html = client.get("/portal/flagged").text
    assert "item/a1" in html and "item/a2" in html
    assert "item/b1" not in html and "Kẹo Beta" not in html
    other = client.get("/portal/flagged?brand=keo-beta")
    assert other.status_code == 404 and "item/b1" not in other.text


def test_search_and_logout(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    _sign_in(client, keys.inspector)
    html = client.get("/portal/flagged", params={"q": "xách tay"}).text
    assert "item/a2" in html and "item/a1" not in html
    out = client.post("/portal/logout", follow_redirects=False)
    assert out.status_code == 303
    client.cookies.clear()
    assert client.get("/portal/flagged", follow_redirects=False).status_code == 303


def test_partner_key_is_told_it_may_not_see_flagged(client: TestClient, store: Store, keys: Keys) -> None:
    _sign_in(client, keys.partner)
    page = client.get("/portal/flagged")
    assert page.status_code == 403
    assert "không được xem" in page.text


def test_both_languages_name_every_text_and_every_case_state() -> None:
    from api.portal.texts import TEXTS
    from kcnguard.records import CaseState

    assert TEXTS["vi"].keys() == TEXTS["en"].keys()
    for state in CaseState:
        assert f"state_{state.value}" in TEXTS["vi"]
