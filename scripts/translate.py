"""Fill zh-TW translations into the catalog: ``python scripts/translate.py FILE.json``.

FILE.json maps English msgids to their Traditional Chinese msgstr. The catalog is written back
as ``make messages`` writes it (no header, width 100), so the diff shows only the new entries.
Prints the msgids still untranslated.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOG = Path(__file__).resolve().parent.parent / "services/locales/zh_TW/LC_MESSAGES/messages.po"


def main(argv: list[str]) -> int:
    wanted: dict[str, str] = {}
    for name in argv:
        wanted.update(json.loads(Path(name).read_text(encoding="utf-8")))
    with CATALOG.open("rb") as source:
        catalog = read_po(source, locale="zh_TW")
    for message in catalog:
        if message.id and message.id in wanted:
            message.string = wanted[message.id]
    with CATALOG.open("wb") as target:
        write_po(target, catalog, width=100, omit_header=True, ignore_obsolete=True)
    missing = [m.id for m in catalog if m.id and not m.string]
    for msgid in missing:
        sys.stdout.write(f"untranslated: {msgid!r}\n")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
