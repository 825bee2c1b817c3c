"""Golden exposition: every catalogue metric rendered from a deterministic engine.

A renamed metric, a changed label, type or HELP text shows up as a diff of
tests/testdata/golden.prom (refresh it with UPDATE_GOLDEN=1 after a deliberate change), and the
whole exposition is linted by promtool.
"""

from __future__ import annotations

import itertools
import os
import platform
import shutil
import subprocess
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from exporter.catalog import CATALOG
from exporter.collector import CacheCollector
from exporter.engine import CheckFailed, Engine, Report, Schedule

GOLDEN = Path(__file__).resolve().parent / "testdata" / "golden.prom"
SKIP = {name for name in CATALOG if name.startswith(("ssm_check_", "ssm_exporter_"))}  # the engine's own


class Everything:
    """One check that publishes one sample of every family metric, then fails."""

    name = "everything"

    async def cycle(self, run):
        async def probe(report: Report) -> None:
            for number, (name, spec) in enumerate(sorted(CATALOG.items())):
                if name not in SKIP:
                    report.gauge(name, number, **{label: f"{label}-value" for label in spec.labels})
            raise CheckFailed("offset_too_large")

        await run("clock_skew", "", probe)


async def render() -> bytes:
    ticks = itertools.count()
    schedule = Schedule(Everything(), interval=60, timeout=5)
    engine = Engine([schedule], clock=lambda: 1_795_000_000.0, monotonic=lambda: next(ticks) * 0.25)
    await engine.run_cycle(schedule)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CacheCollector(engine, version="0.0.0-golden"))
    running = f'python_version="{platform.python_version()}"'.encode()
    return generate_latest(registry).replace(running, b'python_version="3.x"')


async def test_exposition_matches_golden_file() -> None:
    text = await render()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_bytes(text)
    assert text.decode() == GOLDEN.read_text()


async def test_golden_exposition_passes_promtool() -> None:
    done = subprocess.run([shutil.which("promtool"), "check", "metrics"], input=await render(), capture_output=True)
    assert done.returncode == 0, done.stdout + done.stderr
