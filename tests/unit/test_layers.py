"""Layers point one way: app.py → bot → dialogs → services.

``services`` never imports botbuilder, aiohttp's web server or the upper layers (aiohttp's
client is how it calls Microsoft Graph); ``dialogs`` never imports sqlalchemy, msal, aiohttp or
``bot``; ``bot`` never imports ``app``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = {
    "services": {"botbuilder", "botframework", "aiohttp.web", "bot", "dialogs", "app"},
    "dialogs": {"sqlalchemy", "msal", "aiohttp", "asyncpg", "aiosqlite", "bot", "app"},
    "bot": {"app"},
}


def _prefixes(dotted: str) -> set[str]:
    parts = dotted.split(".")
    return {".".join(parts[: end + 1]) for end in range(len(parts))}


def _imports(path: Path) -> set[str]:
    """Every module (and each of its parents) ``path`` imports: ``a``, ``a.b``, ``a.b.c``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names |= _prefixes(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # ``from aiohttp import web`` imports ``aiohttp.web``
                names |= _prefixes(f"{node.module}.{alias.name}")
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


def test_services_may_use_aiohttps_client_but_not_its_web_server(tmp_path):
    client = tmp_path / "client.py"
    client.write_text("import aiohttp\nfrom aiohttp import ClientSession\n")
    server = tmp_path / "server.py"
    server.write_text("from aiohttp import web\n")

    assert _imports(client) & FORBIDDEN["services"] == set()
    assert _imports(server) & FORBIDDEN["services"] == {"aiohttp.web"}
    assert _imports(client) & FORBIDDEN["dialogs"] == {"aiohttp"}
