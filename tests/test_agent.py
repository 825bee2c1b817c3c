"""Agent process detection with a real process, and the agent log followed through rotation."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from exporter.checks.agent_log import kind_of
from exporter.checks.logtail import Tail

from .helpers import check_done, config_yaml, value


@pytest.fixture
def fake_agent(tmp_path: Path):
    """A real process whose name is amazon-ssm-agent, and an agent binary that prints a version."""
    runner = tmp_path / "amazon-ssm-agent"
    shutil.copy("/bin/sleep", runner)
    binary = tmp_path / "bin" / "amazon-ssm-agent"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\necho 'SSM Agent version: 3.3.1142.0'\n")
    binary.chmod(0o755)
    proc = subprocess.Popen([str(runner), "600"])
    yield proc, binary
    proc.kill()
    proc.wait(10)


def test_running_agent_is_found_and_its_stop_is_seen(run_exporter, fake_agent) -> None:
    proc, binary = fake_agent
    config = config_yaml(
        {"agent": {"interval": "200ms", "process_names": ["amazon-ssm-agent"], "binary_paths": [str(binary)]}}
    )
    exp = run_exporter(config)
    samples = exp.wait(lambda s: check_done(s, "agent_running"), "agent checks")
    assert value(samples, "ssm_agent_running") == 1 and value(samples, "ssm_agent_installed") == 1
    assert value(samples, "ssm_agent_info", version="3.3.1142.0") == 1
    assert value(samples, "ssm_check_success", check="agent_running", target="") == 1
    proc.kill()
    proc.wait(10)
    samples = exp.wait(lambda s: value(s, "ssm_agent_running") == 0, "the stopped agent to be noticed")
    assert value(samples, "ssm_check_failure_info", check="agent_running", target="", reason="not_running") == 1


def test_absent_agent_is_not_installed(run_exporter, tmp_path) -> None:
    name = f"no-agent-{uuid.uuid4().hex[:8]}"
    exp = run_exporter(config_yaml({"agent": {"process_names": [name], "binary_paths": [str(tmp_path / name)]}}))
    samples = exp.wait(lambda s: check_done(s, "agent_running"), "agent checks")
    assert value(samples, "ssm_check_failure_info", check="agent_installed", target="", reason="not_installed") == 1
    assert value(samples, "ssm_check_failure_info", check="agent_running", target="", reason="not_running") == 1


LINES = {
    "signature_expired": "2026-11-25 10:00:00 ERROR [ssm] InvalidSignatureException: Signature expired: "
    "20261125T094900Z is now earlier than 20261125T095500Z (20261125T100000Z - 5 min.)",
    "tls_certificate": "2026-11-25 10:00:01 ERROR RequestError: send request failed caused by: Post "
    "https://ssm.us-east-1.amazonaws.com/: x509: certificate has expired or is not yet valid",
    "hibernate": "2026-11-25 10:00:02 INFO [ssm-agent] Entering SSM Agent hibernate - AccessDeniedException",
    "stop_request": "2026-11-25 10:00:03 INFO [ssm-agent] Service received stop ChangeRequest",
    "connection_error": "2026-11-25 10:00:04 ERROR dial tcp 10.0.0.1:443: i/o timeout",
    "throttled": "2026-11-25 10:00:05 ERROR ThrottlingException: Rate exceeded",
    "access_denied": "2026-11-25 10:00:06 ERROR AccessDeniedException: User is not authorized to perform",
}


@pytest.mark.parametrize("kind", sorted(LINES))
def test_signatures(kind: str) -> None:
    assert kind_of(LINES[kind]) == kind
    assert kind_of("2026-11-25 10:00:07 INFO [ssm-agent] Health ping succeeded") is None


def write(path: Path, kinds: list[str], mode: str = "a") -> None:
    with open(path, mode) as f:
        for kind in kinds:
            f.write(LINES[kind] + "\n")


def test_log_counts_are_exact_through_growth_rotation_and_truncation(run_exporter, tmp_path) -> None:
    log, errors = tmp_path / "amazon-ssm-agent.log", tmp_path / "errors.log"
    write(log, ["signature_expired"] * 5)  # history before start-up: never counted
    exp = run_exporter(config_yaml({"agent_log": {"interval": "100ms", "paths": [str(log), str(errors)]}}))
    exp.wait(lambda s: check_done(s, "agent_log"), "agent_log")

    def counts_become(expected: dict[str, int]):
        def match(s) -> bool:
            return all(value(s, "ssm_agent_log_events_total", kind=k) == expected.get(k, 0) for k in LINES)

        return exp.wait(match, f"counts {expected}")

    write(log, ["signature_expired"] * 3 + ["hibernate"])
    counts_become({"signature_expired": 3, "hibernate": 1})

    write(log, ["signature_expired"] * 2)  # written just before rotation: read from the rotated file
    os.rename(log, tmp_path / "amazon-ssm-agent.log.1")
    write(log, ["stop_request"] * 4, mode="w")
    write(errors, ["tls_certificate"] * 2)  # a file that appears after start-up is read from its start
    samples = counts_become({"signature_expired": 5, "hibernate": 1, "stop_request": 4, "tls_certificate": 2})

    write(log, ["throttled"], mode="w")  # truncated and rewritten shorter
    samples = counts_become(
        {"signature_expired": 5, "hibernate": 1, "stop_request": 4, "tls_certificate": 2, "throttled": 1}
    )
    assert value(samples, "ssm_agent_log_last_event_timestamp_seconds", kind="throttled") > 0
    before = value(samples, "ssm_check_last_run_timestamp_seconds", check="agent_log", target="")
    later = exp.wait(
        lambda s: value(s, "ssm_check_last_run_timestamp_seconds", check="agent_log", target="") > before,
        "another cycle",
    )
    assert value(later, "ssm_agent_log_events_total", kind="signature_expired") == 5, "nothing counted twice"


def test_tail_memory_is_bounded_for_a_line_without_end(tmp_path) -> None:
    path = tmp_path / "a.log"
    path.write_text("")
    tail = Tail(path)
    assert list(tail.lines()) == []
    path.write_bytes(b"x" * (3 * 1024 * 1024))
    lines = list(tail.lines())
    assert all(len(line) <= 64 * 1024 for line in lines)
    assert len(tail._partial) <= 64 * 1024
