"""`--web.config.file`: TLS and basic auth for the HTTP endpoints, in the exporter-toolkit format.

The same file Prometheus, Alertmanager and node_exporter read, so one file and one habit serve
them all. The supported subset: `tls_server_config` (cert_file, key_file, client_auth_type,
client_ca_file, min_version) and `basic_auth_users` (bcrypt hashes); any other key is rejected
rather than silently ignored. Read once at start-up.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import re
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Literal

import bcrypt
from aiohttp import web
from pydantic import BeforeValidator, model_validator

from .config import ConfigError, Strict, read, validate

CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
BCRYPT = re.compile(r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$")
VERSIONS = {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}


class TlsServer(Strict):
    cert_file: Path
    key_file: Path
    client_auth_type: Literal["NoClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"] = "NoClientCert"
    client_ca_file: Path | None = None
    min_version: Literal["TLS12", "TLS13"] = "TLS12"

    @model_validator(mode="after")
    def _ca_for_client_auth(self) -> TlsServer:
        if self.client_auth_type != "NoClientCert" and self.client_ca_file is None:
            raise ValueError(f"client_ca_file is required with client_auth_type {self.client_auth_type}")
        return self


def _bcrypt_hash(value: object) -> str:
    if not (isinstance(value, str) and BCRYPT.match(value)):
        raise ValueError("not a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters)")
    return value


class WebConfig(Strict):
    tls_server_config: TlsServer | None = None
    basic_auth_users: dict[str, Annotated[str, BeforeValidator(_bcrypt_hash)]] = {}

    def ssl_context(self) -> ssl.SSLContext | None:
        tls = self.tls_server_config
        if tls is None:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = VERSIONS[tls.min_version]
        try:
            context.load_cert_chain(tls.cert_file, tls.key_file)
            if tls.client_ca_file:
                context.load_verify_locations(tls.client_ca_file)
        except (OSError, ssl.SSLError) as err:
            raise ConfigError([f"tls_server_config: cannot load certificates: {err}"]) from None
        context.verify_mode = CLIENT_AUTH[tls.client_auth_type]
        return context


def load(path: Path) -> WebConfig:
    web_config = validate(WebConfig, read(path))
    web_config.ssl_context()  # certificate problems are config errors, found before serving
    return web_config


def basic_auth(users: dict[str, str]) -> Callable[[web.Request, Callable], Awaitable[web.StreamResponse]]:
    """Middleware asking every request for one of `users`.

    bcrypt is deliberately slow, so it runs off the event loop and a verified pair is remembered
    (as a digest, never the password itself) for the next scrape.
    """
    verified: set[bytes] = set()
    challenge = {"WWW-Authenticate": 'Basic realm="ssm-exporter"'}

    @web.middleware
    async def middleware(request: web.Request, handler: Callable) -> web.StreamResponse:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, password = "", ""
        hashed = users.get(user)
        if scheme.lower() != "basic" or hashed is None:
            raise web.HTTPUnauthorized(headers=challenge)
        digest = hashlib.sha256(f"{user}\0{password}\0{hashed}".encode()).digest()
        if digest not in verified:
            ok = await asyncio.get_running_loop().run_in_executor(
                None, bcrypt.checkpw, password.encode(), hashed.encode()
            )
            if not ok:
                raise web.HTTPUnauthorized(headers=challenge)
            verified.add(digest)
        return await handler(request)

    return middleware
