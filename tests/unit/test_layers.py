"""Layers point one way: app.py → bot → dialogs → services.

``services`` never imports botbuilder, aiohttp or the upper layers; ``dialogs`` never imports
sqlalchemy, msal, aiohttp or ``bot``; ``bot`` never imports ``app``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = {
    "services": {"botbuilder", "botframework", "aiohttp", "bot", "dialogs", "app"},
    "dialogs": {"sqlalchemy", "msal", "aiohttp", "asyncpg", "aiosqlite", "bot", "app"},
    "bot": {"app"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it_nor_what_it_must_not_know(layer):
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[layer])
        for path in (ROOT / layer).rglob("*.py")
        if _imports(path) & FORBIDDEN[layer]
    }

    assert offenders == {}


def test_the_layer_check_sees_a_violation_when_there_is_one(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from botbuilder.core import TurnContext\nimport sqlalchemy\n")

    assert _imports(bad) & FORBIDDEN["services"] == {"botbuilder"}
