"""Every table of the schema, for migrations and the schema test: the one place that imports them.

The core tables are in ``services/tables.py``; a feature with several tables of its own keeps
them beside its service (``benefit_tables``, ``handoff_tables``), on the same ``Base``.
"""

from __future__ import annotations

from services import benefit_tables, handoff_tables
from services.tables import Base

__all__ = ["Base", "benefit_tables", "handoff_tables"]
