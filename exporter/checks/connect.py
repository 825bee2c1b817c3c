"""Reaching an endpoint step by step (DNS, TCP or proxy CONNECT, TLS), saying which step broke.

Each step gets its own deadline, carved just inside the check's, so a hung peer is reported as
`connect_timeout` or `tls_handshake_timeout` rather than a bare `timeout`.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ..config import Target
from ..engine import CheckFailed
from ..neterr import classify

STEP_MARGIN = 0.05  # keep each step's deadline inside the engine's, so the step gets the blame
MAX_PROXY_HEADER_LINES = 100


def step_timeout(remaining: Callable[[], float]) -> float:
    return max(0.0, remaining() - STEP_MARGIN)


@dataclass(frozen=True)
class Resolved:
    addresses: list[str]
    private: bool


async def resolve(host: str, port: int, remaining: Callable[[], float]) -> Resolved:
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), step_timeout(remaining))
    except TimeoutError:
        raise CheckFailed("dns_error", "DNS lookup timed out") from None
    except OSError as err:
        raise CheckFailed("dns_error", str(err)) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    return Resolved(addresses, all(ipaddress.ip_address(a.split("%")[0]).is_private for a in addresses))


async def connect(
    addresses: list[str], port: int, remaining: Callable[[], float]
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """TCP to the first address that accepts, in resolver order."""
    failure = CheckFailed("connection_refused")
    for address in addresses:
        try:
            return await asyncio.wait_for(asyncio.open_connection(address, port), step_timeout(remaining))
        except TimeoutError:
            failure = CheckFailed("connect_timeout", f"{address}:{port}")
        except OSError as err:
            failure = CheckFailed(classify(err), f"{address}:{port}: {err}")
        if remaining() <= STEP_MARGIN:
            break
    raise failure


async def tunnel(
    proxy: str, host: str, port: int, remaining: Callable[[], float]
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """An HTTP CONNECT tunnel through `proxy`; any failure on the way is `proxy_error`."""
    url = urlsplit(proxy)
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    request = f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"
    if url.username:
        secret = base64.b64encode(f"{unquote(url.username)}:{unquote(url.password or '')}".encode()).decode()
        request += f"Proxy-Authorization: Basic {secret}\r\n"
    try:
        async with asyncio.timeout(step_timeout(remaining)):
            reader, writer = await asyncio.open_connection(url.hostname, url.port or 80)
            writer.write((request + "\r\n").encode())
            status = (await reader.readline()).decode("latin-1").split()
            for _ in range(MAX_PROXY_HEADER_LINES):
                if (await reader.readline()) in (b"\r\n", b"\n", b""):
                    break
    except TimeoutError:
        raise CheckFailed("proxy_error", "proxy did not answer in time") from None
    except OSError as err:
        raise CheckFailed("proxy_error", f"{type(err).__name__}: {err}") from None
    if len(status) < 2 or status[1] != "200":
        writer.close()
        raise CheckFailed("proxy_error", f"CONNECT answered {' '.join(status[1:3]) or 'nothing'}")
    return reader, writer


async def handshake(
    writer: asyncio.StreamWriter, context: ssl.SSLContext, server_name: str, remaining: Callable[[], float]
) -> ssl.SSLObject:
    try:
        await asyncio.wait_for(writer.start_tls(context, server_hostname=server_name), step_timeout(remaining))
    except TimeoutError:
        raise CheckFailed("tls_handshake_timeout") from None
    except ssl.SSLError as err:
        raise CheckFailed(classify(err), str(err)) from None
    except OSError as err:
        raise CheckFailed("tls_error", f"{type(err).__name__}: {err}") from None
    return writer.get_extra_info("ssl_object")


def tls_context(target: Target) -> ssl.SSLContext:
    """Verified against the system trust store, or the target's own CA file; TLS 1.2 at least, as AWS.

    Built once per CA file version: loading a trust store costs more than a loopback handshake.
    """
    if target.ca_file is None:
        return _verified_context(None, 0)
    try:
        version = target.ca_file.stat().st_mtime_ns
    except OSError as err:
        raise CheckFailed("tls_error", f"ca_file {target.ca_file}: {err.strerror}") from None
    return _verified_context(str(target.ca_file), version)


@functools.lru_cache(maxsize=64)
def _verified_context(ca_file: str | None, version: int) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as err:
        raise CheckFailed("tls_error", f"ca_file {ca_file}: {err}") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def unverified_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
