"""Config: every invalid file in testdata exits 1 with its one-line message; examples pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from exporter import config

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = Path(__file__).resolve().parent / "testdata"

INVALID = {
    "bad-bool.yml": ["clock.enabled: input should be a valid boolean, unable to interpret input"],
    "bad-duration.yml": ["interval: not a duration: '30 seconds' (use units ms, s, m, h, d)"],
    "bad-imds-url.yml": ["imds.url: not an http(s)://host[:port] URL"],
    "bad-ntp-server.yml": ["clock.servers[1]: not a host or host:port"],
    "bad-proxy.yml": ["endpoints.proxy: not an http(s)://host[:port] URL"],
    "bad-region.yml": ["region: not an AWS region name such as us-east-1"],
    "bad-target-port.yml": ["endpoints.targets[0]: port out of range 1-65535"],
    "not-a-mapping.yml": ["(top level): must be a mapping of keys"],
    "nul-byte.yml": [
        'not valid YAML: unacceptable character #x0000: special characters are not allowed in "<unicode string>", '
        "position 16"
    ],
    "odd-key.yml": ["clock['odd key']: unknown key"],
    "not-yaml.yml": ["not valid YAML at line 2, column 1: expected the node content, but found '<stream end>'"],
    "several-errors.yml": [
        "interval: not a duration: '1x' (use units ms, s, m, h, d)",
        "clock.servers[2]: port out of range 1-65535",
        "clock.surprise: unknown key",
    ],
    "target-missing-host.yml": ["endpoints.targets[0].host: required key missing"],
    "unknown-endpoint-url.yml": ["aws.endpoint_urls.sqs: unknown key"],
    "unknown-key.yml": ["clock.colour: unknown key"],
    "unknown-service.yml": [
        "endpoints.services[1]: input should be "
        "'ssm', 'ssmmessages', 'ec2messages', 's3', 'kms', 'logs' or 'monitoring'"
    ],
    "zero-duration.yml": ["timeout: duration must be positive: '0s'"],
    "zero-samples.yml": ["clock.samples: input should be greater than or equal to 1"],
}


def config_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exporter", "--config.check", "--config.file", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_testdata_file_is_in_the_table() -> None:
    assert sorted(p.name for p in TESTDATA.glob("*.yml")) == sorted(INVALID)


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_config_exits_1_with_one_line_per_problem(name: str) -> None:
    done = config_check(TESTDATA / name)
    assert done.returncode == 1
    assert done.stdout == ""
    prefix = f"ssm-exporter: {TESTDATA / name}: "
    assert done.stderr.splitlines() == [prefix + line for line in INVALID[name]]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("path", sorted((ROOT / "config").glob("*.yml")), ids=lambda p: p.name)
def test_shipped_examples_are_valid(path: Path) -> None:
    done = config_check(path)
    assert (done.returncode, done.stderr) == (0, "")


def test_missing_file_is_one_line() -> None:
    done = config_check(TESTDATA / "does-not-exist.yml")
    assert done.returncode == 1
    assert done.stderr.strip().endswith(
        "cannot read " + str(TESTDATA / "does-not-exist.yml") + ": No such file or directory"
    )


def test_builtin_default_is_instance_mode_on_ec2_defaults() -> None:
    cfg = config.load(None)
    assert cfg.clock.servers == ["169.254.169.123", "time.aws.com"]
    assert cfg.clock.max_offset == 300
    assert cfg.endpoints.services == ["ssm", "ssmmessages", "ec2messages"]
    assert cfg.imds.url == "http://169.254.169.254"
    assert (cfg.agent.enabled, cfg.aws.enabled, cfg.fleet.enabled) == (True, True, False)


@pytest.mark.parametrize("text,seconds", [("30s", 30), ("1m30s", 90), ("500ms", 0.5), ("1.5h", 5400), ("2d", 172800)])
def test_durations_are_go_style(text: str, seconds: float) -> None:
    assert config.parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text,expected",
    [
        ("time.aws.com", ("time.aws.com", 123)),
        ("127.0.0.1:11123", ("127.0.0.1", 11123)),
        ("::1", ("::1", 123)),
        ("[::1]:4123", ("::1", 4123)),
        ("fe80::1", ("fe80::1", 123)),
    ],
)
def test_host_port_forms(text: str, expected: tuple[str, int]) -> None:
    assert config.split_host_port(text, 123) == expected


def test_family_interval_and_timeout_inherit_top_level() -> None:
    cfg = config.parse("interval: 45s\ntimeout: 3s\nclock: {timeout: 1s}\n")
    assert cfg.interval_of("endpoints") == 45 and cfg.interval_of("clock") == 15
    assert cfg.timeout_of("clock") == 1 and cfg.timeout_of("aws") == 3


def test_code_is_linted_and_formatted() -> None:
    """ruff with the project's settings (pyproject.toml): one style, checked on every run."""
    paths = [str(ROOT / p) for p in ("exporter", "tests", "bench", "alerts", "grafana")]
    for command in (["check"], ["format", "--check"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, *paths], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
