"""The HTTP surface of a real exporter process: paths, methods, gzip, readiness, promtool."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from exporter.catalog import CATALOG
from exporter.engine import Engine, Schedule
from exporter.web import make_app

from .helpers import check_done, config_yaml, http_get

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def exporter(run_exporter, chronyd):
    exp = run_exporter(config_yaml({"clock": {"servers": [chronyd], "http_date": {"enabled": False}}}))
    exp.wait(lambda s: check_done(s, "clock_skew"), "first clock cycle")
    return exp


def test_paths_and_methods(exporter) -> None:
    assert http_get(exporter.url + "/-/healthy")[0] == 200
    assert http_get(exporter.url + "/-/ready")[0] == 200
    status, _, body = http_get(exporter.url + "/")
    assert status == 200 and b"clock_source" in body and b"clock_skew" in body
    assert http_get(exporter.url + "/no/such/path")[0] == 404
    done = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", exporter.url + "/metrics"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.stdout == "405"


def test_metrics_gzip_when_asked(exporter) -> None:
    status, headers, body = http_get(exporter.url + "/metrics", **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("Content-Encoding") == "gzip"
    text = gzip.decompress(body).decode()
    assert 'ssm_check_success{check="clock_skew",target=""} 1.0' in text
    assert "refreshed in the background" in text


def test_promtool_check_metrics_passes_on_a_real_scrape(exporter) -> None:
    _, _, body = http_get(exporter.url + "/metrics")
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian prometheus) is installed by the test command"
    done = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr


def test_samples_carry_no_timestamps(exporter) -> None:
    _, _, body = http_get(exporter.url + "/metrics")
    samples = [s for f in text_string_to_metric_families(body.decode()) for s in f.samples]
    assert samples and all(s.timestamp is None for s in samples)


async def test_ready_is_503_until_the_first_full_cycle() -> None:
    class Never:
        name = "never"

        async def cycle(self, run):
            return None

    engine = Engine([Schedule(Never(), interval=60, timeout=1)])
    async with TestClient(TestServer(make_app(engine))) as client:
        assert (await client.get("/-/ready")).status == 503
        assert (await client.get("/-/healthy")).status == 200
        await engine.run_cycle(engine.schedules[0])
        assert (await client.get("/-/ready")).status == 200


def test_every_metric_is_documented() -> None:
    doc = (ROOT / "docs" / "metrics.md").read_text()
    documented = set(re.findall(r"^### `(ssm_[a-z_]+)`", doc, re.M))
    assert documented == set(CATALOG)
