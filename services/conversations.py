"""Where the bot can reach each user later: their conversation references, kept in SQL.

A proactive message (the contact confirmed, a renewal reminder, a help-desk agent's reply)
goes to a conversation the user already has with the bot, through the reference of that
conversation: the channel, the service URL to post to, the conversation and the user. Teams
may move a conversation to another service URL, so the reference is refreshed whenever a turn
shows it changed. The document is the Bot Framework's own serialized
``ConversationReference``; this layer stores it without knowing its shape.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, cast

from pydantic import BaseModel
from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from services.clock import Clock
from services.tables import ConversationReferenceRow
from services.unit_of_work import UnitOfWork

__all__ = ["ConversationReferences", "SqlConversationReferences", "StoredReference"]

_table = cast(Table, ConversationReferenceRow.__table__)


class StoredReference(BaseModel):
    """One conversation a user has with the bot, and how to post into it."""

    user_id: str
    conversation_id: str
    service_url: str
    locale: str | None = None
    timezone: str | None = None  # IANA name, from the client's ``localTimezone``
    document: dict[str, Any]  # the serialized ConversationReference
    active: bool = True
    updated_at: datetime | None = None


class ConversationReferences(Protocol):
    """The users' conversations with the bot."""

    async def remember(self, reference: StoredReference) -> None:
        """Add or refresh a conversation's reference (it becomes active again)."""
        ...

    async def latest_for(self, user_id: str) -> StoredReference | None:
        """The user's most recently used active conversation, if any."""
        ...

    async def forget(self, user_id: str, conversation_id: str) -> None:
        """Stop posting to a conversation the channel says is gone (until the user is back)."""
        ...


class SqlConversationReferences:
    """``ConversationReferences`` in the ``conversation_references`` table."""

    def __init__(self, units: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._units = units
        self._clock = clock

    async def remember(self, reference: StoredReference) -> None:
        """Upsert the reference by (user, conversation)."""
        values = {
            "user_id": reference.user_id,
            "conversation_id": reference.conversation_id,
            "service_url": reference.service_url,
            "locale": reference.locale,
            "timezone": reference.timezone,
            "document": reference.document,
            "active": True,
            "updated_at": self._clock.now(),
        }
        async with self._units() as unit:
            name = unit.session.bind.dialect.name if unit.session.bind else "sqlite"
            insert: Any = postgresql.insert if name == "postgresql" else sqlite.insert
            statement = insert(_table).values(values)
            statement = statement.on_conflict_do_update(
                index_elements=["user_id", "conversation_id"],
                set_={key: statement.excluded[key] for key in values if key not in (
                    "user_id", "conversation_id")},
            )  # fmt: skip
            await unit.session.execute(statement)
            await unit.commit()

    async def latest_for(self, user_id: str) -> StoredReference | None:
        """The user's most recently refreshed active conversation."""
        async with self._units() as unit:
            row = await unit.session.scalar(
                select(ConversationReferenceRow)
                .where(
                    ConversationReferenceRow.user_id == user_id,
                    ConversationReferenceRow.active.is_(True),
                )
                .order_by(ConversationReferenceRow.updated_at.desc())
                .limit(1)
            )
            if row is None:
                return None
            return StoredReference(
                user_id=row.user_id,
                conversation_id=row.conversation_id,
                service_url=row.service_url,
                locale=row.locale,
                timezone=row.timezone,
                document=dict(row.document),
                active=row.active,
                updated_at=row.updated_at,
            )

    async def forget(self, user_id: str, conversation_id: str) -> None:
        """Mark the conversation inactive; a later turn in it makes it active again."""
        async with self._units() as unit:
            await unit.session.execute(
                update(ConversationReferenceRow)
                .where(
                    ConversationReferenceRow.user_id == user_id,
                    ConversationReferenceRow.conversation_id == conversation_id,
                )
                .values(active=False, updated_at=self._clock.now())
            )
            await unit.commit()
