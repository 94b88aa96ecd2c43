"""The dialog tests run in the catalog-only language mode (``tests/support/language.py``).

A test that means to mix languages opts out with ``@pytest.mark.mixed_languages``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services import i18n


@pytest.fixture(autouse=True)
def catalog_only_language(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every reply checked to be all in the reader's language."""
    if request.node.get_closest_marker("mixed_languages") is not None:
        yield
        return
    i18n.mark_catalogs()
    try:
        yield
    finally:
        i18n.mark_catalogs(False)
