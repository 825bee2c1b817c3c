"""Benchmark: our endpoint (DNS+TCP+TLS) probe beside blackbox_exporter's tcp/tls module.

Run by hand: `python -m bench.tls_probe [--rounds N]`. Both probe the same local TLS server;
blackbox's own `probe_duration_seconds` is compared with our `ssm_check_duration_seconds`, each
as measured by the prober itself, over one run of N probes each.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import ssl
import statistics
import subprocess
import tempfile
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import trustme
import yaml

from exporter import config as config_module
from exporter.checks import endpoints
from exporter.context import close_deps, make_deps
from exporter.engine import Engine, Schedule
from tests.helpers import free_port, parse, poll, value
from tests.servers import https_server

HOST = "127.0.0.2"


async def ours(port: int, ca_file: str, rounds: int) -> list[float]:
    cfg = config_module.parse(
        yaml.safe_dump(
            {"endpoints": {"targets": [{"host": HOST, "port": port, "server_name": "bench.test", "ca_file": ca_file}]}}
        )
    )
    deps = await make_deps(cfg)
    schedule = Schedule(endpoints.Family(deps), interval=60, timeout=5)
    engine = Engine([schedule])
    durations = []
    for _ in range(rounds):
        await engine.run_cycle(schedule)
        result = engine.result("endpoint", HOST)
        assert result and result.success, result
        durations.append(result.duration)
    await close_deps(deps)
    return durations


def blackbox(workdir: Path, port: int, ca_file: str, rounds: int) -> list[float]:
    binary = shutil.which("prometheus-blackbox-exporter")
    assert binary, "apt-get install prometheus-blackbox-exporter"
    conf = workdir / "blackbox.yml"
    conf.write_text(
        yaml.safe_dump(
            {
                "modules": {
                    "tls": {
                        "prober": "tcp",
                        "timeout": "5s",
                        "tcp": {"tls": True, "tls_config": {"ca_file": ca_file, "server_name": "bench.test"}},
                    }
                }
            }
        )
    )
    listen = free_port()
    proc = subprocess.Popen(
        [binary, f"--config.file={conf}", f"--web.listen-address=127.0.0.1:{listen}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{listen}/probe?module=tls&target={HOST}:{port}"
    try:
        poll(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{listen}/-/healthy", timeout=1).status == 200,
            what="blackbox exporter",
        )
        durations = []
        for _ in range(rounds):
            samples = parse(urllib.request.urlopen(url, timeout=10).read().decode())
            assert value(samples, "probe_success") == 1, samples
            durations.append(value(samples, "probe_duration_seconds"))
        return durations
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    ca = trustme.CA()
    leaf = ca.issue_cert("bench.test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        ca_file = str(Path(tmp) / "ca.pem")
        ca.cert_pem.write_to_path(ca_file)
        port = stack.enter_context(https_server(context, host=HOST))
        mine = asyncio.run(ours(port, ca_file, args.rounds))
        theirs = blackbox(Path(tmp), port, ca_file, args.rounds)
    m, t = statistics.median(mine), statistics.median(theirs)
    print(f"rounds: {args.rounds}")
    print(f"ssm-exporter endpoint probe  median {m * 1e3:7.2f} ms  max {max(mine) * 1e3:7.2f} ms")
    print(f"blackbox tcp/tls module      median {t * 1e3:7.2f} ms  max {max(theirs) * 1e3:7.2f} ms")
    print(f"ratio (ours / blackbox)      {m / t:.2f}")


if __name__ == "__main__":
    main()
