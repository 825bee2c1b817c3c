"""Rules, Alertmanager routing and dashboards, proven on real Prometheus and Alertmanager."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import queue
import re
import shutil
import ssl
import subprocess
import time
import urllib.parse
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest
import trustme
import yaml

from .helpers import check_done, config_yaml, free_port, poll
from .prom import alertmanager, prometheus, query, webhook
from .servers import https_server
from .sim.aws import Aws, aws_server, instance
from .sim.imds import Imds, imds_server

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "alerts" / "ssm-exporter.rules.yml"
DASHBOARDS = sorted((ROOT / "grafana" / "dashboards").glob("*.json"))
INSTANCE = "i-0123456789abcdef0"


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.parent.name + "_render", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


alerts_render = load(ROOT / "alerts" / "render.py")
grafana_render = load(ROOT / "grafana" / "render.py")


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[tuple[str, str]]:
    found = []
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            found += [(f"{path.name}: {panel['title']}", t["expr"]) for t in panel["targets"]]
        for variable in board["templating"]["list"]:
            if variable["type"] == "query":
                inner = re.fullmatch(r"label_values\((.*), \w+\)", variable["query"]["query"]).group(1)
                found.append((f"{path.name}: variable {variable['name']}", inner))
    return found


def test_generated_files_are_current() -> None:
    assert RULES.read_text() == alerts_render.render(), "run: python alerts/render.py"
    for name, text in grafana_render.render().items():
        assert (ROOT / "grafana" / "dashboards" / name).read_text() == text, "run: python grafana/render.py"


def test_every_alert_is_complete_and_has_a_runbook_section() -> None:
    headings = set(re.findall(r"^## (\w+)", (ROOT / "docs" / "runbook.md").read_text(), re.M))
    for rule in rules():
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert {"summary", "description", "runbook_url"} <= set(rule["annotations"]), rule["alert"]
        assert "{{" in rule["annotations"]["description"], f"{rule['alert']}: description is not templated"
        anchor = rule["annotations"]["runbook_url"].rsplit("#", 1)[1]
        assert anchor == rule["alert"].lower() and rule["alert"] in headings, rule["alert"]
        assert "for" in rule, f"{rule['alert']} has no for:"


def test_promtool_rule_tests_cover_every_alert_firing() -> None:
    tests = sorted((ROOT / "alerts" / "tests").glob("*.yml"))
    done = subprocess.run(
        [shutil.which("promtool"), "test", "rules", *map(str, tests)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    fired = set()
    for path in tests:
        for case in yaml.safe_load(path.read_text())["tests"]:
            fired |= {t["alertname"] for t in case["alert_rule_test"] if t["exp_alerts"]}
    assert fired == {rule["alert"] for rule in rules()}


def test_amtool_accepts_the_alertmanager_example() -> None:
    done = subprocess.run(
        [shutil.which("amtool"), "check-config", str(ROOT / "alerts" / "alertmanager.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def rich_exporter(run_exporter, chronyd, tmp_path):
    """An exporter with every family on, against real local peers, so every metric has data."""
    with ExitStack() as stack:
        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("ssm.test").configure_cert(context)
        ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
        tls_port = stack.enter_context(https_server(context, host="127.0.0.2"))
        imds_url = stack.enter_context(imds_server(Imds(instance_id=INSTANCE)))
        aws_url = stack.enter_context(
            aws_server(Aws(instances=[instance(INSTANCE), instance("i-0ffff", "ConnectionLost")]))
        )
        runner = tmp_path / "amazon-ssm-agent"
        shutil.copy("/bin/sleep", runner)
        agent = subprocess.Popen([str(runner), "600"])
        stack.callback(agent.kill)
        log = tmp_path / "agent.log"
        log.write_text("")
        target = {"host": "127.0.0.2", "port": tls_port, "server_name": "ssm.test", "ca_file": str(tmp_path / "ca.pem")}
        config = config_yaml(
            {
                "region": "us-east-1",
                "interval": "1s",
                "clock": {"servers": [chronyd], "interval": "1s", "http_date": {"targets": [target]}},
                "endpoints": {"targets": [target]},
                "agent": {"process_names": ["amazon-ssm-agent"], "binary_paths": [str(runner)]},
                "agent_log": {"paths": [str(log)], "interval": "1s"},
                "imds": {"url": imds_url},
                "aws": {"endpoint_urls": {"sts": aws_url, "ssm": aws_url}},
                "fleet": {"interval": "1s"},
            }
        )
        exp = run_exporter(
            config, env={"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
        )
        exp.wait(
            lambda s: all(check_done(s, c) for c in ("clock_skew", "ping_status", "fleet_poll", "agent_log")),
            "every family to run",
        )
        with open(log, "a") as f:
            f.write("ERROR Signature expired: 20261125T100000Z is now earlier than 20261125T100500Z\n")
        yield exp


def test_every_expression_parses_and_returns_data_on_real_prometheus(rich_exporter, tmp_path) -> None:
    address = rich_exporter.url.removeprefix("http://")
    with prometheus(tmp_path, [address], [RULES]) as url:
        poll(
            lambda: query(url, "count_over_time(ssm_clock_estimated_offset_seconds[1m]) >= 5")["data"]["result"],
            timeout=60,
            what="five scrapes",
        )
        for name, expr in dashboard_exprs():
            expr = expr.replace("$job", "ssm-exporter").replace("$instance", address)
            expr = expr.replace("$__rate_interval", "1m")
            answer = query(url, expr)
            assert answer["status"] == "success", f"{name}: {answer.get('error')}"
            assert answer["data"]["result"], f"{name}: no data for {expr}"
        for rule in rules():
            answer = query(url, rule["expr"])
            assert answer["status"] == "success", f"{rule['alert']}: {answer.get('error')}"
            for metric in set(re.findall(r"\b(ssm_[a-z_]+|up)(?=\{)", rule["expr"])):
                assert query(url, f'{metric}{{job="ssm-exporter"}}')["data"]["result"], f"{rule['alert']}: {metric}"


def notification(received: queue.Queue, path: str, status: str, alertname: str, deadline: float) -> dict:
    """The next notification to `path` about `alertname` with `status`; others are skipped."""
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {status} {alertname} notification on {path}"
        try:
            got_path, payload = received.get(timeout=remaining)
        except queue.Empty:
            continue
        for alert in payload["alerts"]:
            if got_path == path and alert["status"] == status and alert["labels"]["alertname"] == alertname:
                return alert


def suppressed_by_skew(am: str, alertname: str) -> bool:
    """Alertmanager holds `alertname` and says the skew alert inhibits it."""
    url = f"http://{am}/api/v2/alerts?" + urllib.parse.urlencode({"filter": f'alertname="{alertname}"'})
    with urllib.request.urlopen(url, timeout=5) as response:
        alerts = json.loads(response.read())
    return any(a["status"]["state"] == "suppressed" and a["status"]["inhibitedBy"] for a in alerts)


def test_clock_skew_pages_through_alertmanager_and_resolves(run_exporter, chronyd, tmp_path, report_line) -> None:
    """The exporter 10 minutes slow: the skew pages, the signature alert it causes is inhibited."""
    port = free_port()
    test_rules = tmp_path / "rules.yml"
    test_rules.write_text(alerts_render.render(clock_skew_critical_for="5s", signature_expired_for="1s"))
    routing = yaml.safe_load((ROOT / "alerts" / "alertmanager.yml").read_text())
    routing["route"].update(group_wait="1s", group_interval="1s")
    with ExitStack() as stack:
        hook, received = stack.enter_context(webhook())
        imds_url = stack.enter_context(imds_server(Imds(instance_id=INSTANCE)))
        aws_url = stack.enter_context(aws_server(Aws(instances=[instance(INSTANCE)])))
        for receiver in routing["receivers"]:
            receiver["webhook_configs"][0]["url"] = f"{hook}/{receiver['name']}"
        am = stack.enter_context(alertmanager(tmp_path, routing))
        prom = stack.enter_context(prometheus(tmp_path, [f"127.0.0.1:{port}"], [test_rules], am))
        config = config_yaml(
            {
                "region": "us-east-1",
                "clock": {"servers": [chronyd], "interval": "1s", "http_date": {"enabled": False}},
                "imds": {"url": imds_url},
                "aws": {"endpoint_urls": {"sts": aws_url, "ssm": aws_url}, "interval": "1s"},
            }
        )
        env = {"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}

        skewed_at = time.monotonic()
        skewed = run_exporter(config, faketime="-10m", port=port, env=env)
        alert = notification(received, "/pager", "firing", "SSMClockSkewCritical", time.monotonic() + 120)
        paged_after = time.monotonic() - skewed_at
        assert alert["labels"] == {
            "alertname": "SSMClockSkewCritical",
            "severity": "critical",
            "job": "ssm-exporter",
            "instance": f"127.0.0.1:{port}",
        }
        assert alert["annotations"]["summary"].startswith("Clock skew beyond the SigV4 limit")
        assert re.search(r"is 600(\.\d+)? s away", alert["annotations"]["description"]), alert["annotations"]
        assert alert["annotations"]["runbook_url"].endswith("runbook.md#ssmclockskewcritical")
        poll(lambda: suppressed_by_skew(am, "SSMSignatureExpired"), timeout=60, what="the inhibited signature alert")

        skewed.stop()
        synced_at = time.monotonic()
        run_exporter(config, port=port, env=env)
        notification(received, "/pager", "resolved", "SSMClockSkewCritical", time.monotonic() + 120)
        resolved_after = time.monotonic() - synced_at
        poll(
            lambda: query(prom, "abs(ssm_clock_estimated_offset_seconds) < 0.05")["data"]["result"],
            what="Prometheus to read the synced clock",
        )
    report_line(
        f"clock skew -10m to page: {paged_after:.1f} s (for: 5s, scrape and evaluation every 1 s, "
        f"group_wait 1 s); sync to resolved: {resolved_after:.1f} s"
    )
    assert dt.timedelta(seconds=paged_after) < dt.timedelta(minutes=2)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_structure(path: Path) -> None:
    board = json.loads(path.read_text())
    assert board["uid"] in ("ssm-exporter-fleet", "ssm-exporter-instance")
    assert [v["name"] for v in board["templating"]["list"]][:2] == ["datasource", "job"]
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        area = {
            (x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"]), panel["title"]
        if all("_seconds" in t["expr"] and not t["expr"].startswith("count(") for t in panel["targets"]):
            assert panel["fieldConfig"]["defaults"]["unit"] == "s", f"{panel['title']} shows seconds without a unit"
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
