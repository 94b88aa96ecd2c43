"""The dialog tests run in the catalog-only language mode (``tests/support/language.py``).

A test that means to mix languages opts out with ``@pytest.mark.mixed_languages``.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def every_reply_in_the_readers_language(catalog_only_language: None) -> None:
    """Each dialog test in the catalog-only language mode (the fixture is tests/conftest.py's)."""
