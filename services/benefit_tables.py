"""Tables of one feature, on the schema's ``Base`` (imported by ``services/schema.py``)."""

from __future__ import annotations

from services.tables import Base

__all__ = ["Base"]
