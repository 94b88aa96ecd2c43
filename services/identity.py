"""Who a user is: their tenant, their roles, their tenant's verified domains.

``IdentityService`` is the port. ``DirectoryIdentityService``, the embedded default, reads
tenants and users from a JSON directory file (``services/demo/directory.json`` ships with
demo users) and knows everyone from the start. ``MsalGraphIdentityService``
(``services.graph_identity``) learns about a user only when they sign in: Teams single sign-on
gives the bot a token, ``sign_in`` trades it for Microsoft Graph's view of the user
(``/me/memberOf``, ``/organization``), and later lookups answer from what it remembered.
A caller checks ``requires_sign_in`` to know which kind it holds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from services.errors import IdentityUnavailable

__all__ = [
    "DEMO_DIRECTORY",
    "DirectoryIdentityService",
    "DirectoryUser",
    "IdentityService",
    "Tenant",
]

DEMO_DIRECTORY = Path(__file__).parent / "demo" / "directory.json"


class Tenant(BaseModel):
    """A Microsoft Entra ID tenant."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    verified_domains: tuple[str, ...] = ()


class DirectoryUser(BaseModel):
    """A user as the directory knows them."""

    model_config = ConfigDict(frozen=True)

    id: str
    display_name: str
    email: str
    tenant_id: str | None = None
    organization_id: str | None = None  # the partner organization, for users without a tenant
    global_admin: bool = False
    admin_agent: bool = False


class _Directory(BaseModel):
    tenants: list[Tenant]
    users: list[DirectoryUser]


class IdentityService(Protocol):
    """Answers who a user is and what they may do."""

    @property
    def requires_sign_in(self) -> bool:
        """Whether a user must sign in (Teams single sign-on, then ``sign_in``) to be known."""
        ...

    async def sign_in(self, user_token: str) -> DirectoryUser:
        """The user behind this single sign-on token, as the directory tells it.

        The user and their tenant are remembered, so ``user`` and ``tenant`` answer for them
        later without a token. The token is used once and kept nowhere a caller can see.
        Raises ``SignInRefused`` when the token was refused (ask the user to sign in again)
        and ``IdentityUnavailable`` when the directory cannot answer now.
        """
        ...

    async def user(self, user_id: str) -> DirectoryUser | None:
        """The user with ``user_id``, if the directory knows them."""
        ...

    async def tenant(self, tenant_id: str) -> Tenant | None:
        """The tenant with ``tenant_id``."""
        ...

    async def global_admins(self, tenant_id: str) -> list[DirectoryUser]:
        """The tenant's global administrators (who can create the account)."""
        ...

    async def users(self) -> list[DirectoryUser]:
        """Every user (the local chat page offers them as demo identities)."""
        ...


class DirectoryIdentityService:
    """``IdentityService`` over a JSON directory file, read once."""

    def __init__(self, tenants: list[Tenant], users: list[DirectoryUser]) -> None:
        self._tenants = {tenant.id: tenant for tenant in tenants}
        self._users = {user.id: user for user in users}

    @classmethod
    def from_file(cls, path: Path) -> DirectoryIdentityService:
        """Read and validate a directory file."""
        directory = _Directory.model_validate(json.loads(path.read_text(encoding="utf-8")))
        return cls(directory.tenants, directory.users)

    @property
    def requires_sign_in(self) -> bool:
        """No: the file names every user already."""
        return False

    async def sign_in(self, user_token: str) -> DirectoryUser:
        """Refuse: a directory file cannot read a sign-in token."""
        raise IdentityUnavailable(
            "the directory file has no sign-in; set IDENTITY_PROVIDER=graph to use single sign-on"
        )

    async def user(self, user_id: str) -> DirectoryUser | None:
        """The user with ``user_id``."""
        return self._users.get(user_id)

    async def tenant(self, tenant_id: str) -> Tenant | None:
        """The tenant with ``tenant_id``."""
        return self._tenants.get(tenant_id)

    async def global_admins(self, tenant_id: str) -> list[DirectoryUser]:
        """The tenant's global administrators."""
        return [u for u in self._users.values() if u.tenant_id == tenant_id and u.global_admin]

    async def users(self) -> list[DirectoryUser]:
        """Every user."""
        return list(self._users.values())
