"""Check family `aws`: signed calls to STS and SSM from this instance, and its SSM ping status.

This is the check the AWS troubleshooting tools lack: not "is port 443 open" but "does AWS accept
this host's signatures right now". A skewed clock fails here with `signature_expired` while
every network check passes.
"""

from __future__ import annotations

from datetime import datetime

from ..catalog import PING_STATUSES
from ..context import Deps
from ..engine import CheckFailed, Report, Runner
from ..imds import ImdsError
from .awsclients import Clients, api

REASON_OF_STATUS = {"ConnectionLost": "connection_lost", "Inactive": "inactive"}


def instance_list(reply: dict) -> list[dict]:
    """InstanceInformationList of a reply; botocore hands unparseable JSON back as a dict without it."""
    if not isinstance(reply.get("InstanceInformationList"), list):
        raise CheckFailed("api_error", "reply without InstanceInformationList")
    return reply["InstanceInformationList"]


def publish_instance(report: Report, info: dict) -> None:
    """Ping status series for one InstanceInformation entry (instance and fleet mode alike)."""
    instance_id = str(info.get("InstanceId", ""))
    report.states(
        "ssm_agent_ping_status", PING_STATUSES, str(info.get("PingStatus", "")), label="status", instance_id=instance_id
    )
    last_ping = info.get("LastPingDateTime")
    if isinstance(last_ping, datetime):
        report.gauge("ssm_agent_last_ping_timestamp_seconds", last_ping.timestamp(), instance_id=instance_id)
    if info.get("AgentVersion"):
        report.gauge("ssm_agent_reported_version_info", 1, instance_id=instance_id, version=str(info["AgentVersion"]))
    if isinstance(info.get("IsLatestVersion"), bool):
        report.gauge("ssm_agent_is_latest_version", 1 if info["IsLatestVersion"] else 0, instance_id=instance_id)


class Family:
    name = "aws"

    def __init__(self, deps: Deps):
        self.deps = deps
        self.clients = Clients(deps.config, self.name)

    async def _region(self, report: Report) -> str:
        region = await self.deps.region(report.remaining())
        if not region:
            raise CheckFailed("no_region")
        return region

    async def _sts(self, report: Report) -> None:
        region = await self._region(report)
        await api(self.deps, lambda: self.clients.get("sts", region).get_caller_identity())

    async def _instance_id(self, report: Report) -> str:
        try:
            instance_id = await self.deps.imds.get("meta-data/instance-id", report.remaining())
        except ImdsError as err:
            raise CheckFailed("no_instance_id", str(err)) from None
        if not instance_id:
            raise CheckFailed("no_instance_id")
        return instance_id.strip()

    async def cycle(self, run: Runner) -> None:
        found: dict[str, dict] = {}

        async def ssm_api(report: Report) -> None:
            instance_id = await self._instance_id(report)
            region = await self._region(report)
            reply = await api(
                self.deps,
                lambda: self.clients.get("ssm", region).describe_instance_information(
                    Filters=[{"Key": "InstanceIds", "Values": [instance_id]}]
                ),
            )
            matches = [i for i in instance_list(reply) if i.get("InstanceId") == instance_id]
            if not matches:
                raise CheckFailed("not_managed", f"{instance_id} is not a managed instance")
            found["info"] = matches[0]
            publish_instance(report, matches[0])

        async def ping_status(report: Report) -> None:
            if "info" not in found:
                raise CheckFailed("unknown", "ssm_api failed, so the ping status is unknown")
            status = str(found["info"].get("PingStatus", ""))
            if status != "Online":
                raise CheckFailed(REASON_OF_STATUS.get(status, "unknown"), status)

        await run("sts", "", self._sts)
        await run("ssm_api", "", ssm_api)
        await run("ping_status", "", ping_status)
