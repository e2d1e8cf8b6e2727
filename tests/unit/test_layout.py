"""The layering: the shared package imports no service, and services never import each other.

Only the composition root (launcher/) wires services together, so a service can be read, run and
changed on its own, and every top-level folder that runs as a process is one service.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from launcher.cli import SERVICES
from tests.conftest import ROOT

SHARED = "kcnguard"
SERVICE_PACKAGES = ("api", "crawler", "classifier", "webhooks", "demo")
ROOTS = (SHARED, "launcher", *SERVICE_PACKAGES)


def _imported_roots(path: Path) -> set[str]:
    """Top-level packages of this project a module imports, at module level or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(ROOTS)


@pytest.mark.parametrize("package", [SHARED, *SERVICE_PACKAGES])
def test_a_package_imports_only_itself_and_the_shared_package(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(_imported_roots(path) - {package, SHARED})
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert not {name: roots for name, roots in wrong.items() if roots}


def test_every_service_process_comes_from_a_top_level_service_folder() -> None:
    from launcher.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in SERVICES:
        module = commands[name].get_default("func").__module__
        assert module.split(".")[0] in SERVICE_PACKAGES and module.endswith(".commands"), (name, module)
