"""What every check family is given: config, clocks, a bounded thread pool, shared clients.

Passed in, never imported as globals, so tests hand the families real local servers and their own
clocks instead of monkeypatching.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp

from .config import REGION, Config
from .imds import ImdsClient, ImdsError

T = TypeVar("T")


@dataclass
class Deps:
    config: Config
    executor: ThreadPoolExecutor
    http: aiohttp.ClientSession
    imds: ImdsClient
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    _region: str | None = None

    async def blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking library call in the bounded pool; the caller's deadline still applies."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    async def region(self, timeout: float) -> str | None:
        """Config, then AWS_REGION / AWS_DEFAULT_REGION, then IMDS; None if nothing knows.

        Environment and IMDS answers are held to the config's region pattern, since the region
        becomes part of every endpoint host name.
        """
        if self._region is None:
            candidates = [self.config.region, self.env.get("AWS_REGION"), self.env.get("AWS_DEFAULT_REGION")]
            self._region = next((c for c in candidates if c and REGION.fullmatch(c)), None)
        if self._region is None:
            try:
                found = (await self.imds.get("meta-data/placement/region", timeout) or "").strip()
            except ImdsError:
                found = ""
            self._region = found if REGION.fullmatch(found) else None
        return self._region


def partition_domain(region: str) -> str:
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def service_host(service: str, region: str) -> str:
    return f"{service}.{region}.{partition_domain(region)}"


async def make_deps(config: Config, **overrides: Any) -> Deps:
    """Deps for a running loop; tests override clocks and env the same way."""
    executor = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="check")
    asyncio.get_running_loop().set_default_executor(executor)
    http = aiohttp.ClientSession(trust_env=False)
    monotonic = overrides.get("monotonic", time.monotonic)
    imds = ImdsClient(http, config.imds.url, config.imds.allow_imdsv1, monotonic)
    return Deps(config=config, executor=executor, http=http, imds=imds, **overrides)


async def close_deps(deps: Deps) -> None:
    await deps.http.close()
    deps.executor.shutdown(wait=False, cancel_futures=True)
