from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import ntplib
import pytest

from .helpers import Exporter, free_port, poll


@pytest.fixture
def chronyd(tmp_path: Path) -> Iterator[str]:
    """A real chronyd serving NTP from the local clock on a loopback port chosen now."""
    binary = shutil.which("chronyd") or "/usr/sbin/chronyd"
    port = free_port(kind=2)
    conf = tmp_path / "chrony.conf"
    conf.write_text(
        f"port {port}\nbindaddress 127.0.0.1\nlocal stratum 8\nallow 127.0.0.1\ncmdport 0\n"
        f"pidfile {tmp_path}/chronyd.pid\ndriftfile {tmp_path}/chrony.drift\n"
    )
    proc = subprocess.Popen([binary, "-x", "-d", "-f", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)

    def answers() -> bool:
        assert proc.poll() is None, "chronyd exited"
        try:
            return ntplib.NTPClient().request("127.0.0.1", port=port, timeout=0.2).leap != 3
        except ntplib.NTPException:
            return False

    poll(answers, what="chronyd to serve")
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


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
