"""Write ``services/countries.json``: the ISO 3166-1 codes in each language's collation order.

The country list of the profile form is sorted as each language sorts its names: ICU's
collation (Traditional Chinese by stroke count, English ignoring accents). ICU is a native
library, so the order is worked out here, once, and shipped as data; run this again when the
list or Babel's names change:

    pip install PyICU   # needs Debian's libicu-dev, pkg-config and g++
    python scripts/sort_countries.py
"""

from __future__ import annotations

import json
from pathlib import Path

import icu  # PyICU: only this script needs it
from babel import Locale as BabelLocale

from services.profile import COUNTRY_LOCALES, ISO_3166_1

TARGET = Path(__file__).resolve().parent.parent / "services" / "countries.json"


def main() -> None:
    order: dict[str, list[str]] = {}
    for tag in COUNTRY_LOCALES:
        names = BabelLocale.parse(tag).territories
        collator = icu.Collator.createInstance(icu.Locale(tag))
        order[tag] = sorted(ISO_3166_1, key=lambda code: bytes(collator.getSortKey(names[code])))
    lines = [f"  {json.dumps(tag)}: {json.dumps(codes)}" for tag, codes in order.items()]
    TARGET.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
