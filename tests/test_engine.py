"""A hanging and a raising check cost only their own results; the scrape and the others go on."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from exporter.engine import CheckFailed, Engine, Report, Schedule
from exporter.web import serve

from .helpers import parse, value


class Hangs:
    name = "hangs"

    async def cycle(self, run):
        async def probe(report: Report) -> None:
            await asyncio.Event().wait()

        await run("hang", "", probe)


class Raises:
    name = "raises"

    async def cycle(self, run):
        async def probe(report: Report) -> None:
            raise RuntimeError("bug in a probe")

        await run("raise", "", probe)


class Counts:
    """A healthy family whose every run is visible, to prove it keeps updating."""

    name = "counts"

    def __init__(self):
        self.runs = 0

    async def cycle(self, run):
        async def probe(report: Report) -> None:
            self.runs += 1
            report.gauge("ssm_clock_estimated_offset_seconds", self.runs)

        await run("count", "", probe)


class Fails:
    name = "fails"

    async def cycle(self, run):
        async def probe(report: Report) -> None:
            report.gauge("ssm_endpoint_up", 0, endpoint="a.example")
            raise CheckFailed("connection_refused")

        await run("fail", "a.example", probe)


async def scrape(session: aiohttp.ClientSession, url: str) -> dict:
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
        assert response.status == 200
        return parse(await response.text())


async def test_hanging_and_raising_checks_do_not_block_scrape_or_others() -> None:
    counts = Counts()
    engine = Engine(
        [
            Schedule(Hangs(), interval=0.05, timeout=0.5),
            Schedule(Raises(), interval=0.05, timeout=0.5),
            Schedule(counts, interval=0.05, timeout=0.5),
            Schedule(Fails(), interval=0.05, timeout=0.5),
        ]
    )
    runner, port = await serve(engine, "127.0.0.1", 0)
    engine.start()
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        async with aiohttp.ClientSession() as session:
            await asyncio.wait_for(engine.ready.wait(), 5)
            started = time.monotonic()
            first = await scrape(session, url)
            assert time.monotonic() - started < 1.0, "scrape waited on a check"
            assert value(first, "ssm_check_success", check="hang", target="") == 0
            assert value(first, "ssm_check_failure_info", check="hang", target="", reason="timeout") == 1
            assert value(first, "ssm_check_success", check="raise", target="") == 0
            assert value(first, "ssm_check_failure_info", check="raise", target="", reason="error") == 1
            assert value(first, "ssm_check_success", check="count", target="") == 1
            assert (
                value(first, "ssm_check_failure_info", check="fail", target="a.example", reason="connection_refused")
                == 1
            )
            assert value(first, "ssm_endpoint_up", endpoint="a.example") == 0, "samples before a failure are kept"
            seen = counts.runs
            while counts.runs < seen + 3:
                await asyncio.sleep(0.05)
            later = await scrape(session, url)
            assert value(later, "ssm_clock_estimated_offset_seconds") > value(
                first, "ssm_clock_estimated_offset_seconds"
            )
            assert value(later, "ssm_check_failure_info", check="hang", target="", reason="timeout") == 1
    finally:
        await engine.stop()
        await runner.cleanup()


async def test_results_of_vanished_targets_are_dropped() -> None:
    class Shrinking:
        name = "shrinking"
        targets = ["a", "b"]

        async def cycle(self, run):
            async def probe(report: Report) -> None:
                return None

            for target in self.targets:
                await run("item", target, probe)

    family = Shrinking()
    schedule = Schedule(family, interval=60, timeout=1)
    engine = Engine([schedule])
    await engine.run_cycle(schedule)
    assert {r.target for r in engine.results()} == {"a", "b"}
    family.targets = ["b"]
    await engine.run_cycle(schedule)
    assert {r.target for r in engine.results()} == {"b"}


async def test_unknown_metric_name_fails_the_check_as_error() -> None:
    class Typo:
        name = "typo"

        async def cycle(self, run):
            async def probe(report: Report) -> None:
                report.gauge("ssm_not_in_catalogue", 1)

            await run("typo", "", probe)

    schedule = Schedule(Typo(), interval=60, timeout=1)
    engine = Engine([schedule])
    await engine.run_cycle(schedule)
    result = engine.result("typo")
    assert (result.success, result.reason) == (False, "error")


async def test_state_changes_are_logged_once(caplog) -> None:
    class Flaky:
        name = "flaky"
        reasons = ["dns_error", "dns_error", "timeout_x", None, None]

        async def cycle(self, run):
            reason = self.reasons.pop(0)

            async def probe(report: Report) -> None:
                if reason:
                    raise CheckFailed(reason)

            await run("flaky", "t", probe)

    schedule = Schedule(Flaky(), interval=60, timeout=1)
    engine = Engine([schedule])
    with caplog.at_level("INFO", logger="exporter.engine"):
        for _ in range(5):
            await engine.run_cycle(schedule)
    lines = [(r.getMessage(), getattr(r, "reason", "")) for r in caplog.records]
    assert lines == [("check failing", "dns_error"), ("check failing", "timeout_x"), ("check recovered", "")]
