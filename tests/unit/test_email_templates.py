"""Email templates lay words out; the words themselves live in the gettext catalog."""

from __future__ import annotations

import re

from services.emails import TEMPLATES_DIR


def test_the_email_templates_hold_no_words_of_their_own():
    templates = sorted(TEMPLATES_DIR.iterdir())
    assert templates, "no email templates found"
    for path in templates:
        text = re.sub(r"{{.*?}}|{%.*?%}", " ", path.read_text(encoding="utf-8"), flags=re.S)
        text = re.sub(r"<[^>]*>", " ", text)
        words = re.findall(r"[^\W\d_]{2,}", text)

        assert words == [], f"{path.name}: pass these through t.gettext in services/emails.py"
