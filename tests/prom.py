"""Real Prometheus and Alertmanager processes for the tests, and a webhook receiver."""

from __future__ import annotations

import http.server
import json
import queue
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from .helpers import free_port, poll
from .servers import http_server


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
        if found:
            return found
    raise AssertionError(f"none of {names} installed (scripts/test installs them)")


def _ready(url: str) -> bool:
    with urllib.request.urlopen(url + "/-/ready", timeout=1) as response:
        return response.status == 200


@contextmanager
def _process(command: list[str], url: str, log: Path) -> Iterator[str]:
    with open(log, "w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:

            def ready() -> bool:
                assert proc.poll() is None, log.read_text()[-3000:]
                return _ready(url)

            poll(ready, timeout=60, what=f"{command[0]} to be ready")
            yield url
        finally:
            proc.terminate()
            proc.wait(20)


@contextmanager
def prometheus(workdir: Path, targets: list[str], rules: list[Path], alertmanager: str | None = None) -> Iterator[str]:
    """Prometheus scraping `targets` as job ssm-exporter every second, evaluating `rules` every second."""
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "900ms"},
        "rule_files": [str(r) for r in rules],
        "scrape_configs": [{"job_name": "ssm-exporter", "static_configs": [{"targets": targets}]}],
    }
    if alertmanager:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    path = workdir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    command = [
        _binary("prometheus"),
        f"--config.file={path}",
        f"--storage.tsdb.path={workdir / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--rules.alert.resend-delay=1s",
    ]
    with _process(command, f"http://127.0.0.1:{port}", workdir / "prometheus.log") as url:
        yield url


def query(url: str, expr: str) -> dict:
    """The API's whole answer (status, data or error) for an instant query."""
    request = f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        return json.loads(err.read())


@contextmanager
def alertmanager(workdir: Path, config: dict) -> Iterator[str]:
    """Alertmanager without clustering; yields host:port for Prometheus."""
    port = free_port()
    path = workdir / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    command = [
        _binary("prometheus-alertmanager", "alertmanager"),
        f"--config.file={path}",
        f"--storage.path={workdir / 'am'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    with _process(command, f"http://127.0.0.1:{port}", workdir / "alertmanager.log"):
        yield f"127.0.0.1:{port}"


@contextmanager
def webhook() -> Iterator[tuple[str, queue.Queue]]:
    """An Alertmanager webhook receiver; every notification lands in the queue as (path, payload)."""
    received: queue.Queue = queue.Queue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.put((self.path, json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    with http_server(Handler) as port:
        yield f"http://127.0.0.1:{port}", received
