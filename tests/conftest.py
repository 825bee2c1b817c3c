from __future__ import annotations

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

    def start(config_text: str, faketime: str | None = None, env: dict[str, str] | None = None,
              name: str = "exporter") -> Exporter:
        path = tmp_path / f"{name}-{len(started)}.yml"
        path.write_text(config_text)
        exporter = Exporter(path, faketime=faketime, env=env)
        started.append(exporter)
        return exporter

    yield start
    for exporter in started:
        exporter.stop()
