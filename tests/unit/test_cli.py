"""The `kcnguard` admin commands on embedded defaults, run as a user would."""

from __future__ import annotations

import json

import pytest

from kcnguard.bus import open_bus
from kcnguard.records import DeadLetter
from kcnguard.settings import Settings
from kcnguard.store import open_store
from kcnguard.topics import CRAWL_JOBS, DEAD_LETTER
from launcher.cli import main


def test_setup_then_demo_brands_then_a_crawl_cycle(isolated_settings: Settings, capsys) -> None:
    assert main(["setup"]) == 0
    assert main(["brands", "load", "--demo"]) == 0
    assert "5 brands registered" in capsys.readouterr().out
    assert main(["crawl-now"]) == 0
    sent = int(capsys.readouterr().out.split()[0])
    assert sent >= 5
    with open_bus() as bus, bus.subscribe("t-jobs", [CRAWL_JOBS]) as consumer:
        assert len(consumer.poll(500, 2.0)) == sent


def test_apikey_is_printed_once_and_stored_hashed(isolated_settings: Settings, capsys) -> None:
    assert main(["apikey", "create", "--name", "thanh tra 1", "--role", "inspector"]) == 0
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("kcn_")
    store = open_store()
    try:
        key = store.find_api_key(raw)
        assert key is not None and key.role == "inspector" and raw not in json.dumps(key.__dict__)
    finally:
        store.close()


def test_brands_from_a_broken_file_say_what_is_wrong(isolated_settings: Settings, tmp_path, capsys) -> None:
    bad = tmp_path / "brands.json"
    bad.write_text("{not json")
    assert main(["brands", "load", "--file", str(bad)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_dead_letters_are_printed_with_their_reason_and_left_for_others(isolated_settings: Settings, capsys) -> None:
    with open_bus() as bus:
        bus.publish_records(DEAD_LETTER, [DeadLetter.of(b"{oops", "not JSON", source="listings-raw", offset=3)])
        bus.flush()
    for _ in range(2):  # printing does not consume them for anyone else
        assert main(["dead-letters"]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        assert [json.loads(line)["reason"] for line in lines] == ["not JSON"]


def test_settings_are_printed_with_the_admin_key_hidden(isolated_settings, monkeypatch, capsys) -> None:
    from kcnguard.settings import get_settings

    monkeypatch.setenv("KCNGUARD_ADMIN_KEY", "kcn_secret")
    get_settings.cache_clear()
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "KCNGUARD_ADMIN_KEY=***" in out and "kcn_secret" not in out
    assert "KCNGUARD_BUS_URL=embedded://" in out


def test_an_unknown_command_is_refused() -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["frobnicate"])
    assert exit_.value.code == 2
