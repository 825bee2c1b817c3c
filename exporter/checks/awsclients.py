"""boto3 clients configured for checks: standard retries, short timeouts, our IMDS endpoint.

Client creation is slow and blocking, so it happens once per region, in the thread pool. The
credential chain is boto3's own (environment, files, instance profile via `imds.url`), exactly
what an SDK on this host would use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import boto3
import botocore.session
from botocore.config import Config as BotoConfig

from ..config import Config
from ..context import Deps
from ..engine import CheckFailed
from . import awserr

T = TypeVar("T")

CONNECT_TIMEOUT = 3.0


class Clients:
    def __init__(self, config: Config, family: str):
        self._config = config
        self._timeout = config.timeout_of(family)
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], object] = {}

    def _session(self, region: str) -> boto3.session.Session:
        core = botocore.session.get_session()
        core.set_config_variable("ec2_metadata_service_endpoint", self._config.imds.url.rstrip("/"))
        core.set_config_variable("ec2_metadata_v1_disabled", not self._config.imds.allow_imdsv1)
        core.set_config_variable("metadata_service_timeout", min(self._timeout, CONNECT_TIMEOUT))
        return boto3.session.Session(botocore_session=core, region_name=region)

    def get(self, service: str, region: str):
        """A cached client for `service` in `region` (blocking: call from the thread pool)."""
        with self._lock:
            key = (service, region)
            if key not in self._clients:
                aws = self._config.aws
                self._clients[key] = self._session(region).client(
                    service,
                    endpoint_url=getattr(aws.endpoint_urls, service),
                    config=BotoConfig(
                        retries={"mode": "standard", "total_max_attempts": aws.max_attempts},
                        connect_timeout=min(self._timeout, CONNECT_TIMEOUT),
                        read_timeout=self._timeout,
                        user_agent_extra="ssm-exporter",
                    ),
                )
            return self._clients[key]


async def api(deps: Deps, fn: Callable[[], T]) -> T:
    """Run blocking boto3 work in the thread pool; any failure becomes a contract reason."""
    try:
        return await deps.blocking(fn)
    except CheckFailed:
        raise
    except Exception as err:  # botocore raises many unrelated types; all are classified
        raise CheckFailed(awserr.classify(err), awserr.detail(err)) from None
