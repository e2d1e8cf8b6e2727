"""Every route with an id in its path answers another tenant's object exactly as a missing one.

For each row of the role matrix whose path names an object (tests/unit/test_api_matrix.py lists
every route × role), each role that may not reach that object asks for it, and asks again for an
id of the same shape that exists nowhere. Status and body must be the same once the ids are
blanked out: any difference (a 403 against a 404, another wording, a count) tells a prober the
object exists.
"""

from __future__ import annotations

import re

import pytest

from tests.hostile.conftest import ROLES, Hostile
from tests.unit.test_api_matrix import ROWS, Row, _fill

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _missing(value: str) -> str:
    """An id of the same shape (length, character classes, hex stays hex) that names nothing."""
    chars = list(value)
    changed = 0
    for i in range(len(chars) - 1, -1, -1):
        c = chars[i]
        if c.isdigit():
            chars[i] = "0123456789"[(int(c) + 7) % 10]
        elif c in "abcdef":
            chars[i] = "abcdef"[("abcdef".index(c) + 3) % 6]
        elif c.isalpha() and c.isascii():
            chars[i] = chr((ord(c.lower()) - 97 + 11) % 26 + 97)
        else:
            continue
        changed += 1
        if changed == 6:
            break
    return "".join(chars)


def _object_rows() -> list[Row]:
    return [r for r in ROWS if PLACEHOLDER.search(r.path.split("?")[0])]


def _answer(world: Hostile, row: Row, role: str, ids: dict[str, str]) -> tuple[int, str]:
    headers = {**_fill(row.headers, ids), **world.headers(role)}
    response = world.client.request(row.method, row.path.format(**ids), json=_fill(row.body, ids), headers=headers)
    return response.status_code, response.text


@pytest.mark.parametrize("row", _object_rows(), ids=lambda r: f"{r.method} {r.path}{' ' + r.note if r.note else ''}")
def test_foreign_answers_as_missing(hostile: Hostile, row: Row) -> None:
    names = PLACEHOLDER.findall(row.path.split("?")[0])
    real = {n: hostile.ids[n] for n in names if n in hostile.ids}
    fake = {n: _missing(v) for n, v in real.items()}
    assert all(fake[n] != real[n] for n in real), fake
    differing = []
    for role in ROLES:
        if row.expected[role] < 400:
            continue  # its own object (or the Board's staff): nothing to compare
        foreign = _answer(hostile, row, role, hostile.ids)
        missing = _answer(hostile, row, role, {**hostile.ids, **fake})
        blank_foreign, blank_missing = foreign[1], missing[1]
        for n in real:
            blank_foreign = blank_foreign.replace(real[n], "{id}")
            blank_missing = blank_missing.replace(fake[n], "{id}")
        if foreign[0] != missing[0] or blank_foreign != blank_missing:
            differing.append(
                f"{role}: foreign {foreign[0]} {blank_foreign[:200]}\n    missing {missing[0]} {blank_missing[:200]}"
            )
    assert not differing, f"{row.method} {row.path}:\n" + "\n".join(differing)


def test_the_portal_listing_page_answers_a_foreign_listing_as_a_missing_one(hostile: Hostile) -> None:
    from tests.hostile.conftest import portal_client

    browser = portal_client(hostile, "acme")
    foreign, fake = hostile.ids["listing_b"], _missing(hostile.ids["listing_b"])
    seen = browser.get(f"/portal/listings/{foreign}")
    none = browser.get(f"/portal/listings/{fake}")
    assert seen.status_code == none.status_code == 404
    strip = re.compile(r'name="csrf" value="[^"]*"')
    assert strip.sub("", seen.text).replace(foreign, "{id}") == strip.sub("", none.text).replace(fake, "{id}")
    own = browser.get(f"/portal/listings/{hostile.ids['listing_a']}")
    assert own.status_code == 200
