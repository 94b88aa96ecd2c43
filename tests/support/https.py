"""Local HTTPS stand-ins for tests: a self-signed certificate and a TLS server on loopback.

MSAL talks through ``requests``; Graph clients through aiohttp. Both are pointed at one aiohttp
server on 127.0.0.1 that presents a certificate made here, and both trust that certificate
alone: ``stand_in_session`` for MSAL (which also refuses any address but the stand-in), and
``trusting_tls`` for aiohttp.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "Certificate",
    "StandInOnly",
    "self_signed_certificate",
    "serving_https",
    "stand_in_session",
    "trusting_tls",
]


@dataclass(frozen=True)
class Certificate:
    """A self-signed server certificate for 127.0.0.1 and localhost, as PEM files."""

    cert: Path
    key: Path


def self_signed_certificate(folder: Path) -> Certificate:
    """Make a certificate that is its own issuer, valid for ten days either side of now.

    OpenSSL checks it against the real clock, which a run under ``--fake-now`` (up to a
    week away) does not move.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=10))
        .not_valid_after(now + timedelta(days=10))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        # Its own trust anchor: a CA that may only vouch for itself, as strict OpenSSL wants.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "stand-in.crt", folder / "stand-in.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_file, key_file)


@asynccontextmanager
async def serving_https(app: web.Application, certificate: Certificate) -> AsyncIterator[str]:
    """Serve ``app`` over TLS on a free port of 127.0.0.1; yield its root URL."""
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(certificate.cert, certificate.key)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls).start()
        [(_host, port)] = runner.addresses
        yield f"https://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


class StandInOnly(requests.adapters.HTTPAdapter):
    """Lets MSAL reach the stand-in; records and refuses every other address it tries."""

    def __init__(self, root: str) -> None:
        super().__init__()
        self.root = root
        self.refused: list[str] = []

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if not str(request.url).startswith(f"{self.root}/"):
            self.refused.append(str(request.url))
            raise requests.ConnectionError(f"not the stand-in: {request.url}")
        return super().send(request, *args, **kwargs)


@contextmanager
def stand_in_session(certificate: Certificate, guard: StandInOnly) -> Iterator[requests.Session]:
    """A session for MSAL that trusts ``certificate`` alone and reaches ``guard``'s root only."""
    with requests.Session() as session:
        # Without this, REQUESTS_CA_BUNDLE would override ``verify`` and proxy variables
        # would route loopback traffic away.
        session.trust_env = False
        session.verify = str(certificate.cert)
        session.mount("http://", guard)
        session.mount("https://", guard)
        yield session


def trusting_tls(certificate: Certificate) -> ssl.SSLContext:
    """A client TLS context (for aiohttp) that trusts ``certificate`` alone."""
    return ssl.create_default_context(cafile=certificate.cert)
