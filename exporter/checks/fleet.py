"""Check family `fleet`: the SSM ping status of every managed instance in the region.

Run centrally, it covers the instances whose own exporter can no longer report, which are
exactly the ones in trouble. One paginated DescribeInstanceInformation per cycle.
"""

from __future__ import annotations

from collections import Counter

from ..catalog import PING_STATUSES
from ..context import Deps
from ..engine import CheckFailed, Report, Runner
from .aws import instance_list, publish_instance
from .awsclients import Clients, api


class Family:
    name = "fleet"

    def __init__(self, deps: Deps):
        self.deps = deps
        self.clients = Clients(deps.config, self.name)

    def _all_instances(self, region: str) -> list[dict]:
        client = self.clients.get("ssm", region)
        paginator = client.get_paginator("describe_instance_information")
        pages = paginator.paginate(PaginationConfig={"PageSize": self.deps.config.fleet.page_size})
        return [info for page in pages for info in instance_list(page)]

    async def _poll(self, report: Report) -> None:
        region = await self.deps.region(report.remaining())
        if not region:
            raise CheckFailed("no_region")
        instances = await api(self.deps, lambda: self._all_instances(region))
        counts = Counter(str(info.get("PingStatus", "")) for info in instances)
        for status in PING_STATUSES:
            report.gauge("ssm_fleet_instances", counts.get(status, 0), status=status)
        for info in instances:
            publish_instance(report, info)

    async def cycle(self, run: Runner) -> None:
        await run("fleet_poll", "", self._poll)
