"""CLI behaviour of the real process: clean stop on signals, one-line errors, flags."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from .helpers import check_done, config_yaml, value
from .servers import fake_ntp
from .test_clock import ntp_only


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


def test_sighup_reloads_and_a_broken_config_keeps_the_running_one(run_exporter, chronyd) -> None:
    with fake_ntp("good") as port:
        second = f"127.0.0.1:{port}"
        exp = run_exporter(ntp_only([chronyd]))
        exp.wait(lambda s: check_done(s, "clock_source", chronyd), "the first config")
        exp.config.write_text(ntp_only([second]))
        os.kill(exp.proc.pid, signal.SIGHUP)
        samples = exp.wait(lambda s: check_done(s, "clock_source", second), "the reloaded config")
        assert not check_done(samples, "clock_source", chronyd), "the old server's results are gone"
        assert value(samples, "ssm_exporter_config_last_reload_successful") == 1

        exp.config.write_text("clock: {servers: [not a host!]}\n")
        os.kill(exp.proc.pid, signal.SIGHUP)
        samples = exp.wait(lambda s: value(s, "ssm_exporter_config_last_reload_successful") == 0, "a failed reload")
        before = value(samples, "ssm_check_last_run_timestamp_seconds", check="clock_source", target=second)
        exp.wait(
            lambda s: value(s, "ssm_check_last_run_timestamp_seconds", check="clock_source", target=second) > before,
            "the running config to keep running",
        )
        assert "clock.servers[0]: not a host or host:port" in exp.log_path.read_text()
