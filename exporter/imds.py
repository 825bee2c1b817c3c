"""Instance metadata (IMDS) client shared by region discovery, the imds and the aws_api checks.

IMDSv2 first: a PUT for a session token, then GETs carrying it. IMDSv1 (plain GETs) only when
the config allows it, since instances that require IMDSv2 answer v1 with 401.
"""

from __future__ import annotations

from collections.abc import Callable

import aiohttp

TOKEN_TTL_SECONDS = 21600


class ImdsError(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason


class ImdsClient:
    def __init__(self, session: aiohttp.ClientSession, url: str, allow_v1: bool, monotonic: Callable[[], float]):
        self._session = session
        self._url = url.rstrip("/")
        self._allow_v1 = allow_v1
        self._monotonic = monotonic
        self._token: str | None = None
        self._token_until = 0.0

    async def _request(self, method: str, path: str, headers: dict[str, str], timeout: float) -> tuple[int, str]:
        try:
            async with self._session.request(
                method,
                f"{self._url}/{path}",
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
            ) as response:
                return response.status, (await response.content.read(65536)).decode("utf-8", "replace")
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            raise ImdsError("unreachable", f"{type(err).__name__}: {err}") from None

    async def _session_token(self, timeout: float) -> str | None:
        if self._token and self._monotonic() < self._token_until:
            return self._token
        status, body = await self._request(
            "PUT", "latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": str(TOKEN_TTL_SECONDS)}, timeout
        )
        if status == 200 and body.strip():
            self._token = body.strip()
            self._token_until = self._monotonic() + TOKEN_TTL_SECONDS - 60
            return self._token
        if self._allow_v1:
            return None
        raise ImdsError("token_refused", f"token PUT answered HTTP {status}")

    async def get(self, path: str, timeout: float) -> str | None:
        """The text at `latest/<path>`, or None where IMDS has no such item (404)."""
        token = await self._session_token(timeout)
        headers = {"X-aws-ec2-metadata-token": token} if token else {}
        status, body = await self._request("GET", f"latest/{path}", headers, timeout)
        if status == 404:
            return None
        if status == 401:
            self._token = None
            raise ImdsError("token_refused", f"GET {path} answered HTTP 401")
        if status != 200:
            raise ImdsError("unreachable", f"GET {path} answered HTTP {status}")
        return body
