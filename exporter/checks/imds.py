"""Check family `imds`: instance metadata and the instance profile's credentials.

Credentials whose Expiration is already past by the local clock are another face of skew: the
agent would refuse to use them even though IMDS just handed them out.
"""

from __future__ import annotations

import json
from datetime import datetime

from ..context import Deps
from ..engine import CheckFailed, Report, Runner
from ..imds import ImdsError


class Family:
    name = "imds"

    def __init__(self, deps: Deps):
        self.deps = deps

    async def _get(self, path: str, report: Report) -> str | None:
        try:
            return await self.deps.imds.get(path, report.remaining())
        except ImdsError as err:
            raise CheckFailed(err.reason, str(err)) from None

    async def _reachable(self, report: Report) -> None:
        report.gauge("ssm_imds_up", 0)
        if not await self._get("meta-data/instance-id", report):
            raise CheckFailed("unreachable", "no instance-id")
        report.gauge("ssm_imds_up", 1)

    async def _profile(self, report: Report) -> None:
        report.gauge("ssm_instance_profile_attached", 0)
        if not await self._get("meta-data/iam/info", report):
            raise CheckFailed("no_instance_profile", "iam/info is absent")
        report.gauge("ssm_instance_profile_attached", 1)
        roles = await self._get("meta-data/iam/security-credentials/", report)
        role = (roles or "").strip().splitlines()[0] if (roles or "").strip() else ""
        if not role:
            raise CheckFailed("no_instance_profile", "no role under iam/security-credentials")
        document = await self._get(f"meta-data/iam/security-credentials/{role}", report) or ""
        try:
            expiration = datetime.fromisoformat(json.loads(document)["Expiration"].replace("Z", "+00:00"))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise CheckFailed("bad_credentials_document", "Expiration missing or unreadable") from None
        report.gauge("ssm_instance_credentials_expiry_timestamp_seconds", expiration.timestamp())
        if expiration.timestamp() <= self.deps.clock():
            raise CheckFailed("credentials_expired", f"Expiration {expiration.isoformat()} is past by the local clock")

    async def cycle(self, run: Runner) -> None:
        imds = await run("imds", "", self._reachable)
        if imds.success:
            await run("instance_profile", "", self._profile)
