"""The login brake: atomic across threads and processes, and no way to lock an owner out."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.auth import sessions
from api.auth.login_guard import (
    LOGIN_FAILURES_PER_USER,
    LOGIN_FAILURES_PER_USER_AND_ADDRESS,
    guarded_login,
)
from api.auth.users import create_user
from api.collections import COLLECTIONS as API_COLLECTIONS
from api.problems import Problem
from kcnguard.store import Store, open_store

PASSWORD = "một mật khẩu dài"


@pytest.fixture
def shared_store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path}/s.db", namespace="t")
    opened.setup(API_COLLECTIONS)
    create_user(opened, "lan.tt", PASSWORD, "inspector")
    yield opened
    opened.close()


def _status(store: Store, password: str, address: str) -> int:
    try:
        guarded_login(store, "lan.tt", password, address)
    except Problem as refused:
        return refused.status
    return 200


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per password actually checked."""
    seen: list[int] = []
    real = sessions.verify_password

    def counting(password: str, stored: str) -> bool:
        seen.append(1)
        return real(password, stored)

    monkeypatch.setattr(sessions, "verify_password", counting)
    return seen


def test_sixty_concurrent_guesses_make_at_most_the_policys_password_checks(
    shared_store: Store, checks: list[int]
) -> None:
    start = threading.Barrier(60)
    answers: list[int] = []

    def guess() -> None:
        start.wait()
        answers.append(_status(shared_store, "wrong guess!", "203.0.113.9"))

    threads = [threading.Thread(target=guess) for _ in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(checks) == LOGIN_FAILURES_PER_USER_AND_ADDRESS
    assert sorted(answers) == [401] * LOGIN_FAILURES_PER_USER_AND_ADDRESS + [429] * (
        60 - LOGIN_FAILURES_PER_USER_AND_ADDRESS
    )


def _guess_from_another_process(path: str, tries: int, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = open_store(f"sqlite:///{path}", namespace="t")
    store.setup(API_COLLECTIONS)
    checked = 0
    real = sessions.verify_password

    def counting(password: str, stored: str) -> bool:
        nonlocal checked
        checked += 1
        return real(password, stored)

    sessions.verify_password = counting  # type: ignore[assignment]
    for _ in range(tries):
        _status(store, "wrong guess!", "203.0.113.9")
    store.close()
    results.put(checked)


def test_two_api_processes_share_one_login_brake(shared_store: Store, tmp_path: Path) -> None:
    results: multiprocessing.Queue = multiprocessing.get_context("fork").Queue()  # type: ignore[type-arg]
    procs = [
        multiprocessing.get_context("fork").Process(
            target=_guess_from_another_process, args=(str(tmp_path / "s.db"), 20, results)
        )
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert results.get(timeout=5) + results.get(timeout=5) == LOGIN_FAILURES_PER_USER_AND_ADDRESS


def test_one_address_hammering_does_not_lock_the_owner_out(shared_store: Store) -> None:
    for _ in range(LOGIN_FAILURES_PER_USER_AND_ADDRESS + 5):
        _status(shared_store, "wrong guess!", "203.0.113.9")
    assert _status(shared_store, PASSWORD, "203.0.113.9") == 429
    assert _status(shared_store, PASSWORD, "198.51.100.7") == 200


def test_many_addresses_slow_the_username_down_but_a_clean_address_still_gets_in(shared_store: Store) -> None:
    each = LOGIN_FAILURES_PER_USER_AND_ADDRESS // 2
    attackers = [f"203.0.113.{i}" for i in range(LOGIN_FAILURES_PER_USER // each)]
    for address in attackers:
        for _ in range(each):
            assert _status(shared_store, "wrong guess!", address) == 401
    # Past the username's budget, an address that has failed for it waits though below its own limit...
    assert _status(shared_store, "wrong guess!", attackers[0]) == 429
    # ...while one that has not failed still gets a try: the owner's right password works.
    assert _status(shared_store, PASSWORD, "198.51.100.7") == 200


def test_a_success_clears_its_addresss_failures(shared_store: Store) -> None:
    for _ in range(LOGIN_FAILURES_PER_USER_AND_ADDRESS - 1):
        _status(shared_store, "wrong guess!", "192.0.2.1")
    assert _status(shared_store, PASSWORD, "192.0.2.1") == 200
    for _ in range(LOGIN_FAILURES_PER_USER_AND_ADDRESS):
        assert _status(shared_store, "wrong guess!", "192.0.2.1") == 401
