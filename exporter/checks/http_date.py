"""Clock offset from the Date header of an AWS HTTPS endpoint: AWS's own clock, over 443.

Works where UDP 123 is blocked, and it is the clock that judges SigV4. Date has 1 s resolution
(truncated), so the server's time is taken as Date + 0.5 s, compared with the midpoint of our
request; that is ample to judge a 5-minute limit. When the skew itself breaks TLS verification
(a certificate "not yet valid" by our clock), the Date is still read over an unverified
connection and published as such.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timezone
from email.utils import parsedate_to_datetime

import aiohttp

from ..config import Target
from ..engine import CheckFailed
from ..neterr import classify
from .connect import tls_context

DATE_RESOLUTION = 1.0


def url_of(target: Target) -> str:
    port = "" if target.port == 443 else f":{target.port}"
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"https://{host}{port}/"


async def _date_once(
    session: aiohttp.ClientSession,
    target: Target,
    verify: bool,
    proxy: str | None,
    timeout: float,
    clock: Callable[[], float],
) -> tuple[float, float]:
    """(server time, local midpoint) of one request; any status code is fine."""
    sent = clock()
    async with session.get(
        url_of(target),
        ssl=tls_context(target) if verify else False,
        server_hostname=target.server_name,
        proxy=proxy,
        allow_redirects=False,
        timeout=aiohttp.ClientTimeout(total=timeout),
    ) as response:
        received = clock()
        header = response.headers.get("Date")
    if not header:
        raise CheckFailed("no_date_header")
    return server_time(header), (sent + received) / 2


def server_time(header: str) -> float:
    """Middle of the second a Date header names; HTTP dates are UTC even when they say -0000."""
    try:
        date = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        raise CheckFailed("bad_date_header", header[:64]) from None
    if date.tzinfo is None:
        date = date.replace(tzinfo=timezone.utc)
    return date.timestamp() + DATE_RESOLUTION / 2


async def measure(
    session: aiohttp.ClientSession,
    target: Target,
    proxy: str | None,
    remaining: Callable[[], float],
    clock: Callable[[], float],
) -> tuple[float, bool]:
    """(offset = server - local, verified) for one endpoint."""
    try:
        server, local = await _date_once(session, target, True, proxy, remaining(), clock)
        return server - local, True
    except aiohttp.ClientConnectorCertificateError:
        pass
    except (aiohttp.ClientError, TimeoutError, OSError) as err:
        raise CheckFailed(classify(err), str(err)) from None
    try:
        server, local = await _date_once(session, target, False, proxy, remaining(), clock)
    except (aiohttp.ClientError, TimeoutError, OSError) as err:
        raise CheckFailed(classify(err), str(err)) from None
    return server - local, False
