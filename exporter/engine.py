"""The check engine: every check runs through `Engine.execute`, nowhere else.

Putting deadline, duration, success and failure reason in one wrapper (node_exporter's
`execute()`) means no check can forget them, and a check that hangs or raises costs only its own
result: the scrape reads the cache and never waits on a check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from .catalog import CATALOG

log = logging.getLogger(__name__)


class CheckFailed(Exception):
    """Raised by a probe to fail with a reason from its family's fixed vocabulary."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Sample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


class Report:
    """What a probe hands back: its samples and, if it failed, why.

    Passed in rather than returned so that samples gathered before a timeout or a failure are
    still published (a certificate's dates matter most exactly when the handshake failed).
    """

    def __init__(self, deadline: float, monotonic: Callable[[], float]):
        self.deadline = deadline
        self._monotonic = monotonic
        self._samples: dict[tuple[str, tuple[tuple[str, str], ...]], Sample] = {}
        self.reason: str | None = None

    @property
    def samples(self) -> list[Sample]:
        return list(self._samples.values())

    def gauge(self, name: str, value: float, **labels: str) -> None:
        """Set a sample; setting the same series again replaces it (0 until proven 1)."""
        spec = CATALOG.get(name)
        if spec is None or set(labels) != set(spec.labels):
            raise ValueError(f"{name}{sorted(labels)} is not in the metric catalogue")
        key = (name, tuple(sorted(labels.items())))
        self._samples[key] = Sample(name, key[1], float(value))

    def states(self, name: str, states: tuple[str, ...], current: str, label: str = "state", **labels: str) -> None:
        """One 0/1 series per enum state, like node_systemd_unit_state."""
        for state in states:
            self.gauge(name, 1.0 if state == current else 0.0, **labels, **{label: state})

    def fail(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason

    def remaining(self) -> float:
        return max(0.0, self.deadline - self._monotonic())


Probe = Callable[[Report], Awaitable[None]]


@dataclass(frozen=True)
class Result:
    check: str
    target: str
    family: str
    success: bool
    reason: str
    duration: float
    timestamp: float
    samples: tuple[Sample, ...] = ()


class Family(Protocol):
    """A check family: runs its probes through `run` once per cycle."""

    name: str

    async def cycle(self, run: Runner) -> None: ...


class Runner(Protocol):
    async def __call__(self, check: str, target: str, probe: Probe) -> Result: ...


@dataclass
class Schedule:
    family: Family
    interval: float
    timeout: float
    last_cycle_seconds: float | None = None
    seen: set[tuple[str, str]] = field(default_factory=set)


class Engine:
    """Runs each family on its own interval and keeps the latest result of every check."""

    def __init__(
        self,
        schedules: list[Schedule],
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.schedules = schedules
        self._clock = clock
        self._monotonic = monotonic
        self._results: dict[tuple[str, str], Result] = {}
        self._cycled: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()
        if not schedules:
            self.ready.set()
        # Config reloads are reported with the checks they replace (blackbox_exporter's metrics).
        self.reload_successful = True
        self.reload_success_timestamp = clock()

    def results(self) -> list[Result]:
        return list(self._results.values())

    def result(self, check: str, target: str = "") -> Result | None:
        return self._results.get((check, target))

    async def execute(self, schedule: Schedule, check: str, target: str, probe: Probe) -> Result:
        start = self._monotonic()
        report = Report(start + schedule.timeout, self._monotonic)
        try:
            await asyncio.wait_for(probe(report), schedule.timeout)
        except CheckFailed as failure:
            report.fail(failure.reason)
            log.debug(
                "check failed",
                extra={"check": check, "target": target, "reason": failure.reason, "detail": failure.detail},
            )
        except TimeoutError:
            report.fail("timeout")
            log.debug("check timed out", extra={"check": check, "target": target})
        except Exception as err:  # a bug in one probe must not take down the others
            report.fail("error")
            log.warning("check raised", extra={"check": check, "target": target, "error": repr(err)})
        result = Result(
            check=check,
            target=target,
            family=schedule.family.name,
            success=report.reason is None,
            reason=report.reason or "",
            duration=self._monotonic() - start,
            timestamp=self._clock(),
            samples=tuple(report.samples),
        )
        self._log_change(self._results.get((check, target)), result)
        self._results[(check, target)] = result
        schedule.seen.add((check, target))
        return result

    @staticmethod
    def _log_change(previous: Result | None, result: Result) -> None:
        """One line when a check starts failing, changes reason or recovers; not every cycle."""
        where = {"check": result.check, "target": result.target}
        if not result.success and (previous is None or previous.reason != result.reason):
            log.warning("check failing", extra={**where, "reason": result.reason})
        elif result.success and previous is not None and not previous.success:
            log.info("check recovered", extra=where)

    async def run_cycle(self, schedule: Schedule) -> None:
        """One cycle of one family; results of targets that vanished are dropped afterwards."""
        start = self._monotonic()
        schedule.seen = set()

        async def run(check: str, target: str, probe: Probe) -> Result:
            return await self.execute(schedule, check, target, probe)

        try:
            await schedule.family.cycle(run)
        except Exception as err:
            log.error("family cycle raised", extra={"family": schedule.family.name, "error": repr(err)})
        for key in [k for k, r in self._results.items() if r.family == schedule.family.name]:
            if key not in schedule.seen:
                del self._results[key]
        schedule.last_cycle_seconds = self._monotonic() - start
        self._cycled.add(schedule.family.name)
        if len(self._cycled) == len(self.schedules):
            self.ready.set()

    async def _loop(self, schedule: Schedule) -> None:
        while not self._stopping.is_set():
            started = self._monotonic()
            await self.run_cycle(schedule)
            wait = max(0.0, schedule.interval - (self._monotonic() - started))
            with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), wait)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop(s), name=s.family.name) for s in self.schedules]

    async def replace(self, schedules: list[Schedule]) -> None:
        """Swap in the families of a reloaded config; results start afresh, readiness is kept."""
        await self.stop()
        self._stopping = asyncio.Event()
        self.schedules = schedules
        self._results.clear()
        self._cycled.clear()
        self.reload_successful, self.reload_success_timestamp = True, self._clock()
        self.start()

    async def stop(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
