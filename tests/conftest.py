from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import Exporter
from .servers import chronyd_server


@pytest.fixture
def chronyd(tmp_path: Path) -> Iterator[str]:
    """A real chronyd serving NTP from the local clock on a loopback port chosen now."""
    with chronyd_server(tmp_path) as server:
        yield server


@pytest.fixture
def run_exporter(tmp_path: Path):
    """Start real exporter processes from a YAML config; all are stopped at teardown."""
    started: list[Exporter] = []

    def start(
        config_text: str, faketime: str | None = None, env: dict[str, str] | None = None, port: int = 0
    ) -> Exporter:
        path = tmp_path / f"exporter-{len(started)}.yml"
        path.write_text(config_text)
        exporter = Exporter(path, faketime=faketime, env=env, port=port)
        started.append(exporter)
        return exporter

    yield start
    for exporter in started:
        exporter.stop()


REPORT: list[str] = []


@pytest.fixture
def report_line():
    """Measurements a test wants shown at the end of the run (e.g. the time from skew to page)."""
    return REPORT.append


def pytest_terminal_summary(terminalreporter) -> None:
    if REPORT:
        terminalreporter.section("measurements")
        for line in REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _restore_time_zone():
    """Tests may set TZ; time.tzset() again afterwards so the next test sees the process's zone."""
    yield
    time.tzset()
