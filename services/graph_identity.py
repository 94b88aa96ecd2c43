"""Who a user is, as Microsoft Graph tells it after Teams single sign-on.

``MsalGraphIdentityService`` implements ``IdentityService``. The bot's OAuth prompt (Teams
single sign-on through the Azure Bot's OAuth connection, ``OAUTH_CONNECTION_NAME``) gives it a
token whose audience is the bot's own app; ``sign_in`` trades that token, with MSAL's
on-behalf-of flow, for a delegated Graph token, then asks Graph:

- ``GET /v1.0/me``: the user's object id, name and address;
- ``GET /v1.0/me/memberOf``, every page: a global administrator holds the directory role with
  template id ``62e90394-69f5-4237-9190-012177145e10``; an admin agent is a member of the
  group named ``ADMIN_AGENTS_GROUP`` (``AdminAgents``, as Partner Center creates it);
- ``GET /v1.0/organization``: the tenant, its name and its verified domains.

The app registration (the bot's ``MicrosoftAppId``) needs these delegated Graph permissions,
with admin consent in each customer tenant; without it Entra ID refuses the exchange
(``SignInRefused``, ``consent_required``):

- ``User.Read``: ``/me``, ``/organization`` and the membership list itself;
- ``GroupMember.Read.All``: the names of the groups in that list;
- ``RoleManagement.Read.Directory``: the template ids of the directory roles in that list
  (without it Graph lists the roles with their ids only, and nobody looks like an admin).

MSAL is blocking (``requests``), so it runs in worker threads. MSAL Python fixes the authority
when a client is built, and the on-behalf-of request must go to the user's own tenant (a
multi-tenant app's users come from many), so there is one ``ConfidentialClientApplication``
per tenant, built on first use, all sharing one token cache and one HTTP client. MSAL Python
does not look up its cache by the incoming token for on-behalf-of, so this service does: it
keeps the SHA-256 of each token it exchanged (never the token) with the account Entra ID
answered for, and while that token is valid, signing in with it again takes the Graph token
from MSAL's cache (refreshing it when due) instead of asking Entra ID.

Graph is called over aiohttp, with a timeout, retrying 429 and 5xx answers (and network
errors) a bounded number of times, waiting what ``Retry-After`` asks (seconds or an HTTP date)
unless that is longer than allowed. Failures raise ``IdentityUnavailable``; a token Entra ID
refuses raises ``SignInRefused``. No reason and no log record carries a token: logs name user
and tenant ids only.

``create_identity_service`` picks the implementation ``IDENTITY_PROVIDER`` names; the
directory file stays the embedded default.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
import msal
from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS
from pydantic import SecretStr
from yarl import URL

from services.clock import Clock, SystemClock
from services.errors import IdentityUnavailable, SignInRefused
from services.identity import DirectoryIdentityService, DirectoryUser, IdentityService, Tenant
from services.logs import redact
from services.retry import retry_after_seconds
from services.settings import Settings

if TYPE_CHECKING:
    import requests

__all__ = [
    "GLOBAL_ADMIN_ROLE_TEMPLATE_ID",
    "GRAPH_DELEGATED_SCOPES",
    "MsalGraphIdentityService",
    "create_identity_service",
]

logger = logging.getLogger(__name__)

GLOBAL_ADMIN_ROLE_TEMPLATE_ID = "62e90394-69f5-4237-9190-012177145e10"
GRAPH_DELEGATED_SCOPES = (
    "https://graph.microsoft.com/User.Read",
    "https://graph.microsoft.com/GroupMember.Read.All",
    "https://graph.microsoft.com/RoleManagement.Read.Directory",
)

_MSAL_TIMEOUT = (5, 30)  # seconds to connect, to read: MSAL's default waits forever
_REASON_LENGTH = 300
_MAX_PAGES = 100  # of /me/memberOf: 100 pages of 100 is far beyond any real user
_MAX_TENANTS = 1_000  # MSAL clients kept; their tokens live in the shared cache regardless
# Entra ID's answers that mean "this user's token will not do": signing in again may help.
_REFUSALS = frozenset(
    {"invalid_grant", "interaction_required", "consent_required", "login_required"}
)
_TENANT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,252}")  # a GUID or a domain name

_K = TypeVar("_K")
_V = TypeVar("_V")


def _reason(text: str, *secrets: str) -> str:
    """A failure reason fit to log: no token, address or phone number; one short line."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[token]")
    return redact(" ".join(text.split()))[:_REASON_LENGTH]


def _unverified_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, unchecked: only to route the exchange; Entra ID verifies the token."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):  # binascii.Error and JSONDecodeError are ValueErrors
        raise SignInRefused("the sign-in token is not a JWT") from None
    if not isinstance(claims, dict):
        raise SignInRefused("the sign-in token is not a JWT")
    return claims


def _home_account_id(result: dict[str, Any]) -> str | None:
    """The account MSAL filed the tokens under (``uid.utid`` from Entra ID's client_info)."""
    client_info = result.get("client_info")
    if not isinstance(client_info, str):
        return None
    try:
        info = json.loads(base64.urlsafe_b64decode(client_info + "=" * (-len(client_info) % 4)))
    except ValueError:
        return None
    if isinstance(info, dict) and info.get("uid") and info.get("utid"):
        return f"{info['uid']}.{info['utid']}"
    return None


def _remember(store: OrderedDict[_K, _V], key: _K, value: _V, limit: int) -> list[_V]:
    """Put ``key`` last in ``store``; drop and return the least recently used beyond ``limit``."""
    store[key] = value
    store.move_to_end(key)
    dropped = []
    while len(store) > limit:
        dropped.append(store.popitem(last=False)[1])
    return dropped


@dataclass(frozen=True)
class _Exchanged:
    """A sign-in token already exchanged: whose tokens MSAL cached, and until when."""

    home_account_id: str
    expires_at: float  # the sign-in token's own expiry (POSIX seconds)


class MsalGraphIdentityService:
    """``IdentityService`` over Microsoft Graph, with the user's own (delegated) token.

    ``client_id`` and ``client_secret`` are the bot's app registration: the single sign-on
    token's audience. ``http_session`` calls Graph; ``http_client`` is the ``requests.Session``
    MSAL talks through (its own when not given). Users are known only once they signed in;
    the last ``remembered`` of them (and their tenants) are kept in memory.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: SecretStr,
        *,
        http_session: aiohttp.ClientSession,
        authority_host: str = "https://login.microsoftonline.com",
        graph_url: str = "https://graph.microsoft.com",
        http_client: requests.Session | None = None,
        admin_agents_group: str = "AdminAgents",
        scopes: tuple[str, ...] = GRAPH_DELEGATED_SCOPES,
        clock: Clock | None = None,
        timeout: float = 10.0,
        max_attempts: int = 3,
        max_retry_wait: float = 10.0,
        remembered: int = 10_000,
    ) -> None:
        self._client_id = client_id
        self._secret = client_secret
        self._session = http_session
        self._authority_host = authority_host.rstrip("/")
        self._graph = URL(graph_url.rstrip("/"))
        self._http_client = http_client
        self._admin_agents_group = admin_agents_group
        self._scopes = list(scopes)
        self._clock = clock or SystemClock()
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_attempts = max(1, max_attempts)
        self._max_retry_wait = max_retry_wait
        self._remembered = remembered
        # A host outside Microsoft's clouds is the operator's own (a stand-in, a test server):
        # MSAL must not ask Microsoft's instance discovery about it.
        known = urlsplit(authority_host).hostname in WELL_KNOWN_AUTHORITY_HOSTS
        self._instance_discovery: bool | None = None if known else False
        # Worker threads share these; the lock guards the two dictionaries.
        self._token_cache = msal.TokenCache()
        self._lock = threading.Lock()
        self._apps: OrderedDict[str, msal.ConfidentialClientApplication] = OrderedDict()
        self._exchanged: OrderedDict[str, _Exchanged] = OrderedDict()
        # Only the event loop touches these.
        self._users: OrderedDict[str, DirectoryUser] = OrderedDict()
        self._tenants: OrderedDict[str, Tenant] = OrderedDict()

    @property
    def requires_sign_in(self) -> bool:
        """Yes: Graph is asked with the user's own token."""
        return True

    async def sign_in(self, user_token: str) -> DirectoryUser:
        """Exchange the sign-in token, ask Graph who the user is, and remember the answer."""
        claims = _unverified_claims(user_token)
        tenant_id = claims.get("tid")
        if not isinstance(tenant_id, str) or not _TENANT_ID.fullmatch(tenant_id):
            raise SignInRefused("the sign-in token names no tenant")
        expires_at = claims.get("exp")
        access_token = await self._graph_token(
            user_token, tenant_id, float(expires_at) if isinstance(expires_at, int) else 0.0
        )
        v1 = self._graph / "v1.0"
        try:
            me = await self._get(
                v1 / "me" % {"$select": "id,displayName,mail,userPrincipalName"}, access_token
            )
            memberships = await self._memberships(access_token)
            organizations = await self._get(
                v1 / "organization" % {"$select": "id,displayName,verifiedDomains"}, access_token
            )
        except IdentityUnavailable as error:
            # Graph could echo what it was sent; the reason must not carry either token.
            raise IdentityUnavailable(_reason(error.reason, user_token, access_token)) from None
        tenant = self._tenant_from(organizations, tenant_id)
        user = DirectoryUser(
            id=str(me.get("id") or ""),
            display_name=str(me.get("displayName") or ""),
            email=str(me.get("mail") or me.get("userPrincipalName") or ""),
            tenant_id=tenant.id,
            global_admin=any(
                item.get("@odata.type") == "#microsoft.graph.directoryRole"
                and item.get("roleTemplateId") == GLOBAL_ADMIN_ROLE_TEMPLATE_ID
                for item in memberships
            ),
            admin_agent=any(
                item.get("@odata.type") == "#microsoft.graph.group"
                and item.get("displayName") == self._admin_agents_group
                for item in memberships
            ),
        )
        if not user.id:
            raise IdentityUnavailable("Graph /me answered without the user's id")
        _remember(self._users, user.id, user, self._remembered)
        _remember(self._tenants, tenant.id, tenant, self._remembered)
        logger.info(
            "user signed in through Microsoft Graph",
            extra={
                "user_id": user.id,
                "tenant_id": tenant.id,
                "global_admin": user.global_admin,
                "admin_agent": user.admin_agent,
            },
        )
        return user

    async def user(self, user_id: str) -> DirectoryUser | None:
        """The user with ``user_id``, if they signed in lately."""
        return self._users.get(user_id)

    async def tenant(self, tenant_id: str) -> Tenant | None:
        """The tenant with ``tenant_id``, if one of its users signed in lately."""
        return self._tenants.get(tenant_id)

    async def global_admins(self, tenant_id: str) -> list[DirectoryUser]:
        """The tenant's global administrators among the users who signed in lately.

        Listing every global administrator of a tenant would need an application permission
        (``RoleManagement.Read.Directory`` as the app) in each customer tenant; this service
        asks Graph only as the user, so it names the administrators it has met.
        """
        return [u for u in self._users.values() if u.tenant_id == tenant_id and u.global_admin]

    async def users(self) -> list[DirectoryUser]:
        """Nobody: there is no list of demo identities in production."""
        return []

    async def _graph_token(self, user_token: str, tenant_id: str, expires_at: float) -> str:
        try:
            result = await asyncio.to_thread(self._acquire, user_token, tenant_id, expires_at)
        except Exception as error:  # MSAL and requests raise many types on network trouble
            raise IdentityUnavailable(
                _reason(f"token request failed: {type(error).__name__}")
            ) from None
        if "access_token" in result:
            return str(result["access_token"])
        refusal = str(result.get("error") or "unknown_error")
        detail = refusal
        if result.get("suberror"):
            detail += f" ({result['suberror']})"
        codes = result.get("error_codes")
        if isinstance(codes, list) and codes:
            detail += " " + ",".join(f"AADSTS{code}" for code in codes)
        logger.warning(
            "Entra ID refused the on-behalf-of exchange",
            extra={"tenant_id": tenant_id, "error": refusal},
        )
        if refusal in _REFUSALS or result.get("suberror") in _REFUSALS:
            raise SignInRefused(_reason(f"sign-in refused: {detail}", user_token))
        raise IdentityUnavailable(_reason(f"token refused: {detail}", user_token))

    def _acquire(self, user_token: str, tenant_id: str, expires_at: float) -> dict[str, Any]:
        """MSAL, in a worker thread: the cached Graph token for this sign-in, or a new one."""
        app = self._app(tenant_id)
        key = hashlib.sha256(user_token.encode()).hexdigest()
        with self._lock:
            exchanged = self._exchanged.get(key)
        if exchanged is not None and exchanged.expires_at > self._clock.now().timestamp():
            account = next(
                (
                    account
                    for account in app.get_accounts()
                    if account.get("home_account_id") == exchanged.home_account_id
                ),
                None,
            )
            if account is not None:
                cached: dict[str, Any] | None = app.acquire_token_silent(self._scopes, account)
                if cached and "access_token" in cached:
                    return cached
        result: dict[str, Any] = app.acquire_token_on_behalf_of(user_token, self._scopes)
        home_account_id = _home_account_id(result) if "access_token" in result else None
        if home_account_id:
            with self._lock:
                dropped = (
                    _remember(
                        self._exchanged,
                        key,
                        _Exchanged(home_account_id, expires_at),
                        self._remembered,
                    )
                    if expires_at  # a sign-in token without an expiry is never reused
                    else [_Exchanged(home_account_id, expires_at)]
                )
                still_used = {entry.home_account_id for entry in self._exchanged.values()}
            for entry in dropped:
                if entry.home_account_id not in still_used:
                    self._forget_tokens(entry.home_account_id)
        return result

    def _app(self, tenant_id: str) -> msal.ConfidentialClientApplication:
        """The MSAL client for ``tenant_id``'s authority (building it asks for its metadata)."""
        with self._lock:
            app = self._apps.get(tenant_id)
            if app is None:
                app = msal.ConfidentialClientApplication(
                    self._client_id,
                    client_credential=self._secret.get_secret_value(),
                    authority=f"{self._authority_host}/{tenant_id}",
                    http_client=self._http_client,
                    instance_discovery=self._instance_discovery,
                    token_cache=self._token_cache,
                    timeout=_MSAL_TIMEOUT,  # for MSAL's own session: a hung authority is an error
                )
            _remember(self._apps, tenant_id, app, _MAX_TENANTS)
            return app

    def _forget_tokens(self, home_account_id: str) -> None:
        """Drop a user's tokens from MSAL's cache once no remembered sign-in points at them."""
        cache, kinds = self._token_cache, msal.TokenCache.CredentialType
        query = {"home_account_id": home_account_id}
        for kind, remove in (
            (kinds.ACCESS_TOKEN, cache.remove_at),
            (kinds.REFRESH_TOKEN, cache.remove_rt),
            (kinds.ID_TOKEN, cache.remove_idt),
            (kinds.ACCOUNT, cache.remove_account),
        ):
            for item in list(cache.search(kind, query=query)):
                remove(item)

    async def _memberships(self, token: str) -> list[dict[str, Any]]:
        """Every directory object the user is a direct member of, page after page."""
        url = (
            self._graph / "v1.0" / "me" / "memberOf" % {"$select": "id,displayName,roleTemplateId"}
        )
        items: list[dict[str, Any]] = []
        for _page in range(_MAX_PAGES):
            page = await self._get(url, token)
            items.extend(item for item in page.get("value", []) if isinstance(item, dict))
            link = page.get("@odata.nextLink")
            if not isinstance(link, str):
                return items
            url = URL(link, encoded=True)
            if url.origin() != self._graph.origin():
                # The token goes to Graph alone, whatever a page says.
                raise IdentityUnavailable("Graph /me/memberOf named a next page elsewhere")
        raise IdentityUnavailable(f"Graph /me/memberOf has more than {_MAX_PAGES} pages")

    async def _get(self, url: URL, token: str) -> dict[str, Any]:
        """A Graph GET, retried on 429, 5xx and network errors as Graph asks."""
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        for attempt in range(1, self._max_attempts + 1):
            retry_after: float | None = None
            try:
                async with self._session.get(
                    url, headers=headers, timeout=self._timeout
                ) as response:
                    if response.status == 200:
                        payload = await response.json(content_type=None)
                        if isinstance(payload, dict):
                            return payload
                        raise IdentityUnavailable(f"Graph {url.path} answered no JSON object")
                    status = response.status
                    failure = f"Graph {status} on {url.path}: {await _error_detail(response)}"
                    retryable = status == 429 or status >= 500
                    retry_after = retry_after_seconds(
                        response.headers.get("Retry-After"), self._clock.now()
                    )
            except (aiohttp.ClientError, TimeoutError) as error:
                status, failure, retryable = 0, f"Graph unreachable: {type(error).__name__}", True
            except ValueError:
                raise IdentityUnavailable(f"Graph {url.path} answered no JSON") from None
            wait = retry_after if retry_after is not None else 0.5 * 2 ** (attempt - 1)
            if not retryable or attempt == self._max_attempts or wait > self._max_retry_wait:
                raise IdentityUnavailable(_reason(failure, token))
            logger.warning(
                "Graph did not answer; trying again",
                extra={"status": status, "attempt": attempt, "wait_seconds": wait},
            )
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # the loop always returns or raises

    @staticmethod
    def _tenant_from(organizations: dict[str, Any], tenant_id: str) -> Tenant:
        found = [org for org in organizations.get("value", []) if isinstance(org, dict)]
        org = next(
            (org for org in found if org.get("id") == tenant_id), found[0] if found else None
        )
        if org is None or not org.get("id"):
            raise IdentityUnavailable("Graph /organization named no tenant")
        domains = org.get("verifiedDomains") or []
        return Tenant(
            id=str(org["id"]),
            name=str(org.get("displayName") or ""),
            verified_domains=tuple(
                str(domain["name"])
                for domain in domains
                if isinstance(domain, dict) and domain.get("name")
            ),
        )


async def _error_detail(response: aiohttp.ClientResponse) -> str:
    """Graph's error code and message, or the HTTP reason."""
    try:
        payload = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return response.reason or ""
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        return f"{error.get('code', '')} {error.get('message', '')}".strip()
    return response.reason or ""


def create_identity_service(
    settings: Settings,
    http_session: aiohttp.ClientSession | None,
    *,
    http_client: requests.Session | None = None,
) -> IdentityService:
    """The implementation ``settings.identity_provider`` names (Graph needs the HTTP session)."""
    if settings.identity_provider == "graph":
        if http_session is None:
            raise ValueError("IDENTITY_PROVIDER=graph needs an HTTP client session")
        return MsalGraphIdentityService(
            settings.microsoft_app_id,
            settings.microsoft_app_password,
            http_session=http_session,
            http_client=http_client,
            authority_host=settings.identity_authority_host,
            graph_url=settings.graph_url,
            admin_agents_group=settings.admin_agents_group,
        )
    return DirectoryIdentityService.from_file(settings.directory_file)
