"""The README is the one list of settings and commands: keep it true."""

from __future__ import annotations

import re

from kcnguard.settings import Settings
from launcher.cli import build_parser
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_listed_in_the_readme() -> None:
    missing = [f"KCNGUARD_{n.upper()}" for n in Settings.model_fields if f"`KCNGUARD_{n.upper()}`" not in README]
    assert not missing, f"add to the README's settings table: {missing}"


def test_the_readme_names_no_setting_that_does_not_exist() -> None:
    settings = {f"KCNGUARD_{n.upper()}" for n in Settings.model_fields}
    known = (
        settings
        | {f"{name}_FILE" for name in settings}
        | {
            "KCNGUARD_TEST_KAFKA",
            "KCNGUARD_TEST_ELASTICSEARCH",
        }
    )
    named = set(re.findall(r"KCNGUARD_[A-Z0-9_]+[A-Z0-9]", README))
    assert named <= known, f"README names unknown settings: {sorted(named - known)}"


def test_the_readme_commands_are_the_makefile_targets_ci_uses() -> None:
    assert "make run" in README and "make test" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.strip().splitlines()[-1] == "make test"


def test_every_subcommand_in_the_readme_exists() -> None:
    parser = build_parser()
    subcommands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    for name in set(re.findall(r"`kcnguard ([a-z-]+)", README)):
        assert name in subcommands, f"README mentions `kcnguard {name}`, which does not exist"
