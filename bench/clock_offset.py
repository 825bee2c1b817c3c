"""Benchmark: NTP offset error against faketime's ground truth, and the cost of a clock cycle.

Run by hand (never in CI): `python -m bench.clock_offset [--rounds N]`. Needs chronyd and
faketime (scripts/test installs them). For each shift the exporter runs under faketime and its
measured NTP offset is compared with the shift, which is exact by construction.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from tests.helpers import Exporter, check_done, config_yaml, value
from tests.servers import chronyd_server

SHIFTS = {"-10m": 600.0, "-5m": 300.0, "-1m": 60.0, "+0": 0.0, "+1m": -60.0, "+10m": -600.0}


def measure(workdir: Path, server: str, shift: str, rounds: int) -> tuple[list[float], list[float]]:
    config = workdir / f"bench{shift}.yml"
    config.write_text(
        config_yaml(
            {
                "clock": {
                    "servers": [server],
                    "interval": "200ms",
                    "timeout": "2s",
                    "http_date": {"enabled": False},
                    "kernel": {"enabled": False},
                }
            }
        )
    )
    exporter = Exporter(config, faketime=None if shift == "+0" else shift)
    errors, cycles = [], []
    last = None
    try:
        while len(errors) < rounds:
            samples = exporter.wait(
                lambda s, last=last: (
                    check_done(s, "clock_skew")
                    and value(s, "ssm_check_last_run_timestamp_seconds", check="clock_skew", target="") != last
                ),
                "a new cycle",
            )
            last = value(samples, "ssm_check_last_run_timestamp_seconds", check="clock_skew", target="")
            offset = value(samples, "ssm_clock_offset_seconds", source="ntp", server=server)
            errors.append(offset - SHIFTS[shift])
            cycles.append(value(samples, "ssm_exporter_cycle_duration_seconds", family="clock"))
    finally:
        exporter.stop()
    return errors, cycles


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, chronyd_server(Path(tmp)) as server:
        print(f"{'shift':>6} {'offset error median':>20} {'max |error|':>12} {'cycle median':>13} {'cycle p95':>10}")
        for shift in SHIFTS:
            errors, cycles = measure(Path(tmp), server, shift, args.rounds)
            cycles.sort()
            print(
                f"{shift:>6} {statistics.median(errors) * 1e6:>17.1f} us {max(map(abs, errors)) * 1e6:>9.1f} us"
                f" {statistics.median(cycles) * 1e3:>10.2f} ms {cycles[int(0.95 * (len(cycles) - 1))] * 1e3:>7.2f} ms"
            )


if __name__ == "__main__":
    main()
