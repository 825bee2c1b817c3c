"""Check family `clock`: the local clock against independent references, and the SigV4 verdict.

NTP servers and AWS HTTPS Date headers are each a `clock_source`; their median offset is the
best estimate, and `clock_skew` fails when it exceeds `clock.max_offset` (default 5 minutes,
where AWS starts answering "Signature expired"). Several references mean a blocked UDP 123 or a
lying time daemon still leaves a reading.
"""

from __future__ import annotations

import asyncio
import statistics

from ..config import Target
from ..context import Deps, service_host
from ..engine import CheckFailed, Report, Runner
from ..proxy import proxy_for
from . import http_date, kernel, ntp


class Family:
    name = "clock"

    def __init__(self, deps: Deps):
        self.deps = deps
        self.cfg = deps.config.clock

    async def _http_targets(self) -> list[Target]:
        if not self.cfg.http_date.enabled:
            return []
        if self.cfg.http_date.targets:
            return list(self.cfg.http_date.targets)
        region = await self.deps.region(self.deps.config.timeout_of(self.name))
        return [Target(host=service_host("ssm", region))] if region else []

    def _ntp_probe(self, server: str, offsets: dict[str, float]):
        async def probe(report: Report) -> None:
            report.gauge("ssm_clock_source_up", 0, source="ntp", server=server)
            sample = await self.deps.blocking(ntp.best_of, server, self.cfg.samples, report.remaining)
            report.gauge("ssm_clock_source_up", 1, source="ntp", server=server)
            report.gauge("ssm_clock_offset_seconds", sample.offset, source="ntp", server=server)
            report.gauge("ssm_clock_ntp_rtt_seconds", sample.delay, server=server)
            report.gauge("ssm_clock_ntp_stratum", sample.stratum, server=server)
            report.gauge("ssm_clock_ntp_leap", sample.leap, server=server)
            report.gauge("ssm_clock_ntp_root_distance_seconds", sample.root_distance, server=server)
            offsets[f"ntp:{server}"] = sample.offset

        return probe

    def _http_probe(self, target: Target, offsets: dict[str, float]):
        server = http_date.url_of(target).rstrip("/")
        proxy = proxy_for(target.host, self.deps.config.endpoints.proxy, self.deps.env)

        async def probe(report: Report) -> None:
            report.gauge("ssm_clock_source_up", 0, source="http_date", server=server)
            offset, verified = await http_date.measure(self.deps.http, target, proxy, report.remaining, self.deps.clock)
            report.gauge("ssm_clock_source_up", 1, source="http_date", server=server)
            report.gauge("ssm_clock_offset_seconds", offset, source="http_date", server=server)
            report.gauge("ssm_clock_http_date_verified", 1 if verified else 0, server=server)
            offsets[f"http_date:{server}"] = offset

        return probe, server

    async def _kernel(self, report: Report) -> None:
        state = await self.deps.blocking(kernel.read)
        report.gauge("ssm_clock_sync_status", 1 if state.synchronised else 0)
        report.gauge("ssm_clock_maxerror_seconds", state.maxerror)
        report.gauge("ssm_clock_esterror_seconds", state.esterror)
        if not state.synchronised:
            report.fail("unsynchronised")

    async def cycle(self, run: Runner) -> None:
        offsets: dict[str, float] = {}
        probes = [run("clock_source", server, self._ntp_probe(server, offsets)) for server in self.cfg.servers]
        for target in await self._http_targets():
            probe, server = self._http_probe(target, offsets)
            probes.append(run("clock_source", server, probe))
        if self.cfg.kernel.enabled and kernel.available():
            probes.append(run("clock_kernel", "", self._kernel))
        await asyncio.gather(*probes)

        async def verdict(report: Report) -> None:
            report.gauge("ssm_clock_max_offset_seconds", self.cfg.max_offset)
            if not offsets:
                raise CheckFailed("no_source")
            estimate = statistics.median(offsets.values())
            report.gauge("ssm_clock_estimated_offset_seconds", estimate)
            if abs(estimate) > self.cfg.max_offset:
                report.fail("offset_too_large")

        await run("clock_skew", "", verdict)
