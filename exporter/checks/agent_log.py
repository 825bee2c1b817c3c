"""Check family `agent_log`: known failure signatures in the SSM Agent's own log.

The agent writes "Signature expired" or "Entering SSM Agent hibernate" long before anyone looks;
counting them turns the log into an alertable signal. One kind per line, the most specific first
(a TLS error inside a connection error counts as `tls_certificate`, a hibernation
because access was denied as `hibernate`).
"""

from __future__ import annotations

import re
import threading

from ..context import Deps
from ..engine import CheckFailed, Report, Runner
from .logtail import Tail

SIGNATURES: dict[str, re.Pattern[str]] = {
    "signature_expired": re.compile(r"Signature expired|Signature not yet current|RequestTimeTooSkewed", re.I),
    "tls_certificate": re.compile(
        r"x509:|certificate (has expired|is not yet valid|signed by unknown)|"
        r"tls: failed to verify",
        re.I,
    ),
    "hibernate": re.compile(r"Entering SSM Agent hibernate", re.I),
    "stop_request": re.compile(r"Service received stop ChangeRequest", re.I),
    "access_denied": re.compile(r"AccessDenied|is not authorized to perform", re.I),
    "throttled": re.compile(r"Throttling|Rate exceeded|TooManyRequests", re.I),
    "connection_error": re.compile(
        r"connection refused|no such host|i/o timeout|dial tcp|connection reset|"
        r"send request failed",
        re.I,
    ),
}


def kind_of(line: str) -> str | None:
    return next((kind for kind, pattern in SIGNATURES.items() if pattern.search(line)), None)


class Family:
    name = "agent_log"

    def __init__(self, deps: Deps):
        self.deps = deps
        self.tails = [Tail(path) for path in deps.config.agent_log.paths]
        self.counts = {kind: 0 for kind in SIGNATURES}
        self.last_seen: dict[str, float] = {}
        self._lock = threading.Lock()  # a timed-out scan may still run in its thread

    def _scan(self) -> list[str]:
        """Count new lines of every file; returns the paths that could not be read."""
        with self._lock:
            return self._scan_locked()

    def _scan_locked(self) -> list[str]:
        unreadable = []
        for tail in self.tails:
            try:
                for line in tail.lines():
                    kind = kind_of(line)
                    if kind:
                        self.counts[kind] += 1
                        self.last_seen[kind] = self.deps.clock()
            except OSError:
                unreadable.append(str(tail.path))
        return unreadable

    def _publish(self, report: Report) -> None:
        for kind, count in self.counts.items():
            report.gauge("ssm_agent_log_events_total", count, kind=kind)
        for kind, seen in self.last_seen.items():
            report.gauge("ssm_agent_log_last_event_timestamp_seconds", seen, kind=kind)

    async def _probe(self, report: Report) -> None:
        self._publish(report)
        unreadable = await self.deps.blocking(self._scan)
        self._publish(report)
        if unreadable:
            raise CheckFailed("unreadable", ", ".join(unreadable))

    async def cycle(self, run: Runner) -> None:
        await run("agent_log", "", self._probe)
