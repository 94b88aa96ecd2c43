"""Where the bot can reach each user later: their conversation references, kept in SQL.

A proactive message (the contact confirmed, a renewal reminder, a help-desk agent's reply)
goes to a conversation the user already has with the bot, through the reference of that
conversation: the channel, the service URL to post to, the conversation and the user. Teams
may move a conversation to another service URL, so the reference is refreshed whenever a turn
shows it changed. The document is the Bot Framework's own serialized
``ConversationReference``; this layer stores it without knowing its shape.

Team channels the bot is installed in (where the help desk posts tickets) are kept apart, in
``team_channels``: a channel is not any one user's conversation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, cast

from pydantic import BaseModel
from sqlalchemy import Table, select, update

from services.clock import Clock
from services.tables import ConversationReferenceRow, TeamChannelRow
from services.unit_of_work import UnitOfWork, insert_for

__all__ = [
    "ConversationReferences",
    "SqlConversationReferences",
    "SqlTeamChannels",
    "StoredReference",
    "TeamChannel",
    "TeamChannels",
]

_table = cast(Table, ConversationReferenceRow.__table__)
_channels_table = cast(Table, TeamChannelRow.__table__)


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

    async def forget_conversation(self, conversation_id: str) -> None:
        """Stop posting to a conversation for everyone in it (the bot was uninstalled there)."""
        ...

    @property
    def channels(self) -> TeamChannels:
        """The team channels the bot is installed in."""
        ...


class SqlConversationReferences:
    """``ConversationReferences`` in the ``conversation_references`` table."""

    def __init__(self, units: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._units = units
        self._clock = clock
        self._channels = SqlTeamChannels(units, clock)

    @property
    def channels(self) -> SqlTeamChannels:
        """The team channels, in the same database."""
        return self._channels

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
            insert = insert_for(unit.session)
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

    async def forget_conversation(self, conversation_id: str) -> None:
        """Mark every user's reference to the conversation inactive."""
        async with self._units() as unit:
            await unit.session.execute(
                update(ConversationReferenceRow)
                .where(ConversationReferenceRow.conversation_id == conversation_id)
                .values(active=False, updated_at=self._clock.now())
            )
            await unit.commit()


class TeamChannel(BaseModel):
    """A team channel the bot was installed in, and how to post into it."""

    channel_id: str  # the channel's conversation id
    team_id: str
    name: str = ""
    tenant_id: str | None = None
    service_url: str
    document: dict[str, Any]  # the serialized ConversationReference
    active: bool = True
    installed_by: str | None = None  # the directory id of whoever installed the bot
    installed_at: datetime | None = None


class TeamChannels(Protocol):
    """The team channels the bot was installed in."""

    async def record(self, channel: TeamChannel) -> None:
        """Add or replace a channel the bot was just installed in (it becomes active)."""
        ...

    async def refresh(self, channel_id: str, service_url: str, document: dict[str, Any]) -> None:
        """Refresh how to post into a channel already recorded (nothing if it is not)."""
        ...

    async def get(self, channel_id: str) -> TeamChannel | None:
        """The channel with ``channel_id``, active or not."""
        ...

    async def active(self, tenant_id: str | None = None) -> list[TeamChannel]:
        """The channels the bot is installed in now, of ``tenant_id`` when given."""
        ...

    async def forget_team(self, team_id: str) -> None:
        """The bot was removed from the team: none of its channels is posted to any more."""
        ...


class SqlTeamChannels:
    """``TeamChannels`` in the ``team_channels`` table."""

    def __init__(self, units: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._units = units
        self._clock = clock

    async def record(self, channel: TeamChannel) -> None:
        """Upsert the channel by its id; a reinstall starts its record afresh."""
        now = self._clock.now()
        values = {
            "channel_id": channel.channel_id,
            "team_id": channel.team_id,
            "name": channel.name,
            "tenant_id": channel.tenant_id,
            "service_url": channel.service_url,
            "document": channel.document,
            "active": True,
            "installed_by": channel.installed_by,
            "installed_at": channel.installed_at or now,
            "updated_at": now,
        }
        async with self._units() as unit:
            insert = insert_for(unit.session)
            statement = insert(_channels_table).values(values)
            statement = statement.on_conflict_do_update(
                index_elements=["channel_id"],
                set_={key: statement.excluded[key] for key in values if key != "channel_id"},
            )
            await unit.session.execute(statement)
            await unit.commit()

    async def refresh(self, channel_id: str, service_url: str, document: dict[str, Any]) -> None:
        """Update the channel's service URL and reference, if it is recorded."""
        async with self._units() as unit:
            await unit.session.execute(
                update(TeamChannelRow)
                .where(TeamChannelRow.channel_id == channel_id)
                .values(service_url=service_url, document=document, updated_at=self._clock.now())
            )
            await unit.commit()

    async def get(self, channel_id: str) -> TeamChannel | None:
        """The channel with ``channel_id``."""
        async with self._units() as unit:
            row = await unit.session.get(TeamChannelRow, channel_id)
            return None if row is None else _channel(row)

    async def active(self, tenant_id: str | None = None) -> list[TeamChannel]:
        """The active channels, oldest install first."""
        query = select(TeamChannelRow).where(TeamChannelRow.active.is_(True))
        if tenant_id is not None:
            query = query.where(TeamChannelRow.tenant_id == tenant_id)
        async with self._units() as unit:
            rows = await unit.session.scalars(query.order_by(TeamChannelRow.installed_at))
            return [_channel(row) for row in rows]

    async def forget_team(self, team_id: str) -> None:
        """Mark every channel of the team inactive."""
        async with self._units() as unit:
            await unit.session.execute(
                update(TeamChannelRow)
                .where(TeamChannelRow.team_id == team_id)
                .values(active=False, updated_at=self._clock.now())
            )
            await unit.commit()


def _channel(row: TeamChannelRow) -> TeamChannel:
    return TeamChannel(
        channel_id=row.channel_id,
        team_id=row.team_id,
        name=row.name,
        tenant_id=row.tenant_id,
        service_url=row.service_url,
        document=dict(row.document),
        active=row.active,
        installed_by=row.installed_by,
        installed_at=row.installed_at,
    )
