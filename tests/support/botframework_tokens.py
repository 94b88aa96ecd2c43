"""A stand-in for the Bot Framework's token signing: OpenID metadata, signing keys, tokens.

The SDK validates a channel's token against the keys listed at
``ChannelValidation.open_id_metadata_endpoint`` (its public setting for that URL; unset, it
is the public cloud's ``https://login.botframework.com/v1/.well-known/openidconfiguration``).
``serving_openid_metadata`` serves that document and its JWKS on 127.0.0.1, and
``channel_validation_at`` points the SDK at it for the duration of a block. The SDK fetches the
metadata with blocking ``requests`` calls from the event loop, so the stand-in runs on a thread
of its own (an aiohttp server on the same loop would never get to answer).

``channel_token`` signs a token the way the Bot Framework does (RS256, issuer
``https://api.botframework.com``, the bot's app id as audience, the ``serviceurl`` claim), with
every field overridable to make a bad one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from botframework.connector.auth import AuthenticationConstants, ChannelValidation
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

__all__ = [
    "APP_ID",
    "ISSUER",
    "SERVICE_URL",
    "MetadataStandIn",
    "SigningKey",
    "channel_token",
    "channel_validation_at",
    "serving_openid_metadata",
]

APP_ID = "11111111-2222-3333-4444-555555555555"
ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
SERVICE_URL = "https://smba.trafficmanager.net/emea/"


@dataclass(frozen=True)
class SigningKey:
    """An RSA key with the key id and channel endorsements the metadata lists it under."""

    kid: str
    private_key: rsa.RSAPrivateKey
    endorsements: tuple[str, ...] = ("msteams", "webchat", "directline")

    @classmethod
    def generate(cls, kid: str, endorsements: Sequence[str] | None = None) -> SigningKey:
        """A new 2048-bit key (what the Bot Framework uses)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if endorsements is None:
            return cls(kid, key)
        return cls(kid, key, tuple(endorsements))

    def jwk(self) -> dict[str, Any]:
        """The public key as the JWKS lists it, endorsements included."""
        public: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {
            **public,
            "kid": self.kid,
            "use": "sig",
            "endorsements": list(self.endorsements),
        }


def channel_token(
    key: SigningKey,
    *,
    app_id: str = APP_ID,
    service_url: str = SERVICE_URL,
    issuer: str = ISSUER,
    lifetime: float = 3600,
    expires_at: float | None = None,
    kid: str | None = None,
    **claims: Any,
) -> str:
    """A channel's bearer token for the bot, signed with ``key`` (an ``Authorization`` value)."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "serviceurl": service_url,
        "nbf": now - 60,
        "exp": int(expires_at if expires_at is not None else now + lifetime),
        "iss": issuer,
        "aud": app_id,
        **claims,
    }
    token = jwt.encode(payload, key.private_key, algorithm="RS256", headers={"kid": kid or key.kid})
    return f"Bearer {token}"


@dataclass
class MetadataStandIn:
    """The OpenID metadata and JWKS the SDK reads, and how often it read them."""

    keys: list[SigningKey]
    requests: list[str] = field(default_factory=list)

    def document(self, path: str, root: str) -> dict[str, Any] | None:
        """What to answer at ``path``, or None for a 404."""
        self.requests.append(path)
        if path == "/v1/.well-known/openidconfiguration":
            return {
                "issuer": ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": f"{root}/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        if path == "/v1/.well-known/keys":
            return {"keys": [key.jwk() for key in self.keys]}
        return None


@contextmanager
def serving_openid_metadata(stand_in: MetadataStandIn) -> Iterator[str]:
    """Serve ``stand_in`` over HTTP on 127.0.0.1 from a thread; yield the metadata URL."""

    root = ""  # known once the server has its port

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = stand_in.document(self.path, root)
            data = json.dumps(body).encode()
            self.send_response(404 if body is None else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests read stand_in.requests instead

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    root = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="openid-metadata", daemon=True)
    thread.start()
    try:
        yield f"{root}/v1/.well-known/openidconfiguration"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def channel_validation_at(metadata_url: str) -> Iterator[None]:
    """Have the SDK's channel validation read its signing keys from ``metadata_url``."""
    before = ChannelValidation.open_id_metadata_endpoint
    ChannelValidation.open_id_metadata_endpoint = metadata_url
    try:
        yield
    finally:
        ChannelValidation.open_id_metadata_endpoint = before
