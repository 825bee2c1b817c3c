"""Test plumbing: ports, polling, a real exporter process (optionally under faketime), scrapes."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from prometheus_client.parser import text_string_to_metric_families

T = TypeVar("T")
WAIT = 20.0  # generous upper bound for polls; tests pass as soon as the condition holds


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(fn: Callable[[], T | None], timeout: float = WAIT, what: str = "condition") -> T:
    """Call `fn` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = fn()
            if value:
                return value
        except (OSError, KeyError, AssertionError) as err:
            last = err
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}" + (f" (last error: {last!r})" if last else ""))


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def http_get(url: str, timeout: float = 5.0, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


class Exporter:
    """The real `ssm-exporter` in its own process group; `faketime` shifts its whole clock."""

    def __init__(
        self,
        config: Path,
        faketime: str | None = None,
        env: dict[str, str] | None = None,
        port: int = 0,
        args: tuple[str, ...] = (),
    ):
        command = [sys.executable, "-m", "exporter", "--config.file", str(config)]
        command += ["--web.listen-address", f"127.0.0.1:{port}", "--log.level", "debug", *args]
        if faketime:
            command = [shutil.which("faketime") or "faketime", "-f", faketime] + command
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and "PROXY" not in k.upper()}
        full_env.update(env or {})
        self.config = config
        self.log_path = config.with_suffix(".log")
        self._log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=full_env, start_new_session=True
        )
        self.port = poll(self._bound_port, what=f"exporter to listen (log {self.log_path})")
        self.url = f"http://127.0.0.1:{self.port}"

    def _bound_port(self) -> int | None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"exporter exited {self.proc.returncode}: {self.log_path.read_text()}")
        match = re.search(r"msg=listening address=127\.0\.0\.1:(\d+)", self.log_path.read_text())
        return int(match.group(1)) if match else None

    def scrape(self) -> Samples:
        status, _, body = http_get(self.url + "/metrics")
        assert status == 200, status
        return parse(body.decode())

    def wait(self, predicate: Callable[[Samples], bool], what: str, timeout: float = WAIT) -> Samples:
        """Scrape until `predicate` holds; the exporter refreshes in the background."""

        def attempt() -> Samples | None:
            samples = self.scrape()
            return samples if predicate(samples) else None

        return poll(attempt, timeout, what)

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode


def check_done(samples: Samples, check: str, target: str = "") -> bool:
    return value(samples, "ssm_check_last_run_timestamp_seconds", check=check, target=target) is not None


FAMILIES = ("clock", "endpoints", "agent", "agent_log", "imds", "aws", "fleet")


def config_yaml(settings: dict) -> str:
    """A config with every family off except those `settings` names (enabled unless it says)."""
    import yaml

    data: dict = {name: {"enabled": False} for name in FAMILIES}
    for key, val in settings.items():
        if key in FAMILIES:
            data[key] = {"enabled": True, **val}
        else:
            data[key] = val
    return yaml.safe_dump(data)
