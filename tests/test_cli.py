"""CLI behaviour of the real process: clean stop on signals, one-line errors, flags."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from .helpers import config_yaml


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly(run_exporter, chronyd, sig) -> None:
    exp = run_exporter(config_yaml({"clock": {"servers": [chronyd], "http_date": {"enabled": False}}}))
    os.killpg(exp.proc.pid, sig)
    assert exp.proc.wait(10) == 0
    log = exp.log_path.read_text()
    assert "shutting down" in log and "Traceback" not in log


def test_listen_address_in_use_is_one_line_exit_1(tmp_path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = tmp_path / "c.yml"
        config.write_text(config_yaml({}))
        done = subprocess.run(
            [sys.executable, "-m", "exporter", "--config.file", str(config), f"--web.listen-address=127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 1
    assert "cannot listen" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("flag", ["--web.listen-address=nonsense", "--log.level=loud", "--log.format=xml"])
def test_bad_flags_are_rejected(flag: str) -> None:
    done = subprocess.run([sys.executable, "-m", "exporter", flag], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()[-1]) > 0


def test_json_log_format(run_exporter, tmp_path) -> None:
    config = tmp_path / "c.yml"
    config.write_text(config_yaml({}))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exporter",
            "--config.file",
            str(config),
            "--web.listen-address=127.0.0.1:0",
            "--log.format=json",
        ],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    line = proc.stderr.readline()
    os.killpg(proc.pid, signal.SIGTERM)
    proc.communicate(timeout=10)

    record = json.loads(line)
    assert record["msg"] == "listening" and record["level"] == "info"


def test_version_flag() -> None:
    done = subprocess.run([sys.executable, "-m", "exporter", "--version"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.startswith("ssm-exporter ")
