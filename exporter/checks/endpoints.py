"""Check family `endpoints`: the agent's whole HTTPS path to each AWS endpoint.

DNS, TCP (or the agent's CONNECT proxy), TLS verified as the agent would, and the certificate's
validity window through this host's clock. When verification fails the certificate is fetched
again unverified, so its dates are published exactly when they explain the failure.
"""

from __future__ import annotations

import asyncio
import contextlib

from ..config import Target
from ..context import Deps, service_host
from ..engine import CheckFailed, Report, Runner
from ..neterr import CERTIFICATE_REASONS
from ..proxy import proxy_for
from . import certs, connect


class Family:
    name = "endpoints"

    def __init__(self, deps: Deps):
        self.deps = deps
        self.cfg = deps.config.endpoints

    async def targets(self) -> list[Target] | None:
        """Configured targets, else the region's service endpoints; None when no region is known."""
        if self.cfg.targets:
            return list(self.cfg.targets)
        region = await self.deps.region(self.deps.config.timeout_of(self.name))
        if region is None:
            return None
        return [Target(host=service_host(service, region)) for service in self.cfg.services]

    async def _open(self, target: Target, report: Report):
        endpoint = target.host
        proxy = proxy_for(target.host, self.cfg.proxy, self.deps.env)
        start = self.deps.monotonic()
        if proxy:
            stream = await connect.tunnel(proxy, target.host, target.port, report.remaining)
        else:
            resolved = await connect.resolve(target.host, target.port, report.remaining)
            report.gauge("ssm_endpoint_dns_lookup_seconds", self.deps.monotonic() - start, endpoint=endpoint)
            report.gauge("ssm_endpoint_dns_private", 1 if resolved.private else 0, endpoint=endpoint)
            start = self.deps.monotonic()
            stream = await connect.connect(resolved.addresses, target.port, report.remaining)
        report.gauge("ssm_endpoint_connect_seconds", self.deps.monotonic() - start, endpoint=endpoint)
        return stream

    def _publish_certificates(self, report: Report, endpoint: str, chain: list[bytes]) -> None:
        if not chain:
            return
        leaf = certs.validity(chain[0])
        report.gauge("ssm_endpoint_cert_not_before_timestamp_seconds", leaf.not_before, endpoint=endpoint)
        report.gauge("ssm_endpoint_cert_not_after_timestamp_seconds", leaf.not_after, endpoint=endpoint)
        report.gauge(
            "ssm_endpoint_cert_chain_earliest_expiry_timestamp_seconds", certs.earliest_expiry(chain), endpoint=endpoint
        )
        report.gauge("ssm_endpoint_cert_clock_margin_seconds", leaf.margin(self.deps.clock()), endpoint=endpoint)

    async def _unverified_chain(self, target: Target, report: Report) -> list[bytes]:
        # A scratch report: this second connection's timings must not replace the verified attempt's.
        _, writer = await self._open(target, Report(report.deadline, self.deps.monotonic))
        try:
            ssl_object = await connect.handshake(
                writer, connect.unverified_context(), target.verify_name, report.remaining
            )
            return certs.presented_chain(ssl_object)
        finally:
            writer.close()

    def probe(self, target: Target):
        endpoint = target.host

        async def probe(report: Report) -> None:
            report.gauge("ssm_endpoint_up", 0, endpoint=endpoint)
            report.gauge("ssm_endpoint_tls_valid", 0, endpoint=endpoint)
            _, writer = await self._open(target, report)
            report.gauge("ssm_endpoint_up", 1, endpoint=endpoint)
            start = self.deps.monotonic()
            try:
                ssl_object = await connect.handshake(
                    writer, connect.tls_context(target), target.verify_name, report.remaining
                )
            except CheckFailed as failure:
                # The verified attempt's reason is the one reported, whatever the second fetch meets.
                if failure.reason in CERTIFICATE_REASONS:
                    with contextlib.suppress(CheckFailed):
                        self._publish_certificates(report, endpoint, await self._unverified_chain(target, report))
                raise
            finally:
                writer.close()
            report.gauge("ssm_endpoint_tls_handshake_seconds", self.deps.monotonic() - start, endpoint=endpoint)
            report.gauge("ssm_endpoint_tls_valid", 1, endpoint=endpoint)
            report.gauge("ssm_endpoint_tls_version_info", 1, endpoint=endpoint, version=ssl_object.version() or "")
            self._publish_certificates(report, endpoint, certs.presented_chain(ssl_object))

        return probe

    async def cycle(self, run: Runner) -> None:
        targets = await self.targets()
        if targets is None:

            async def no_region(report: Report) -> None:
                raise CheckFailed("no_region", "set region, AWS_REGION, or run where IMDS answers")

            await run("endpoint", "", no_region)
            return
        await asyncio.gather(*(run("endpoint", target.host, self.probe(target)) for target in targets))
