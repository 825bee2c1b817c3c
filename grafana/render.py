"""Render the Grafana dashboards: `python grafana/render.py` writes grafana/dashboards/*.json.

Panels are declared compactly here so a review reads queries and units, not JSON layout; a test
fails while the committed JSON differs from what this renders.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "dashboards"
DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'job=~"$job", instance=~"$instance"'
JOB = 'job=~"$job"'
LIMIT_STEPS = [{"color": "green", "value": None}, {"color": "orange", "value": 60}, {"color": "red", "value": 300}]


def target(expr: str, legend: str = "", ref: str = "A", table: bool = False) -> dict:
    t = {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref}
    if table:
        t.update(format="table", instant=True)
    return t


def panel(
    kind: str,
    title: str,
    targets: list[dict],
    grid: tuple[int, int, int, int],
    unit: str = "short",
    steps: list[dict] | None = None,
    description: str = "",
    **options: object,
) -> dict:
    defaults: dict = {"unit": unit}
    if steps:
        defaults["thresholds"] = {"mode": "absolute", "steps": steps}
    if kind == "timeseries" and steps:
        defaults["custom"] = {"thresholdsStyle": {"mode": "line+area"}}
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": targets,
        "gridPos": dict(zip("xywh", grid, strict=True)),
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
    }


def table(title: str, exprs: list[str], grid: tuple[int, int, int, int], **options: object) -> dict:
    """A table of instant queries, one target per expression (refs A, B, C, ...)."""
    targets = [target(expr, ref=chr(ord("A") + i), table=True) for i, expr in enumerate(exprs)]
    return panel("table", title, targets, grid, **options)


def variables(with_instance: bool) -> list[dict]:
    result = [
        {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source"},
        {
            "name": "job",
            "type": "query",
            "datasource": DS,
            "label": "Job",
            "multi": True,
            "includeAll": True,
            "query": {"query": "label_values(ssm_exporter_build_info, job)", "refId": "job"},
            "refresh": 2,
        },
    ]
    if with_instance:
        result.append(
            {
                "name": "instance",
                "type": "query",
                "datasource": DS,
                "label": "Instance",
                "query": {"query": 'label_values(ssm_exporter_build_info{job=~"$job"}, instance)', "refId": "instance"},
                "refresh": 2,
            }
        )
    return result


def dashboard(uid: str, title: str, panels: list[dict], with_instance: bool) -> dict:
    for number, p in enumerate(panels, 1):
        p["id"] = number
    return {
        "uid": uid,
        "title": title,
        "tags": ["ssm-exporter", "aws", "ssm"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": variables(with_instance)},
        "annotations": {"list": []},
        "panels": panels,
    }


def status_count(status: str) -> str:
    return f'count(max by (instance_id) (ssm_agent_ping_status{{{JOB}, status="{status}"}}) == 1) or vector(0)'


def fleet() -> dict:
    return dashboard(
        "ssm-exporter-fleet",
        "SSM exporter / Fleet overview",
        [
            panel("stat", "Online", [target(status_count("Online"))], (0, 0, 4, 4), colorMode="value"),
            panel(
                "stat",
                "Connection Lost",
                [target(status_count("ConnectionLost"))],
                (4, 0, 4, 4),
                steps=[{"color": "green", "value": None}, {"color": "red", "value": 1}],
            ),
            panel("stat", "Inactive", [target(status_count("Inactive"))], (8, 0, 4, 4)),
            panel(
                "stat",
                "Hosts beyond the SigV4 limit",
                [target(f"count(abs(ssm_clock_estimated_offset_seconds{{{JOB}}}) > 300) or vector(0)")],
                (12, 0, 6, 4),
                steps=[{"color": "green", "value": None}, {"color": "red", "value": 1}],
            ),
            panel("stat", "Exporters up", [target(f"sum(up{{{JOB}}})")], (18, 0, 6, 4)),
            table(
                "Ping status by instance",
                [f"max by (instance_id, status) (ssm_agent_ping_status{{{JOB}}} == 1)"],
                (0, 4, 12, 10),
            ),
            panel(
                "bargauge",
                "Worst clock offset (|reference − local|)",
                [target(f"topk(10, abs(ssm_clock_estimated_offset_seconds{{{JOB}}}))", "{{instance}}")],
                (12, 4, 12, 10),
                unit="s",
                steps=LIMIT_STEPS,
                displayMode="gradient",
                orientation="horizontal",
            ),
            panel(
                "timeseries",
                "Clock offset, all hosts (positive: local clock behind)",
                [target(f"ssm_clock_estimated_offset_seconds{{{JOB}}}", "{{instance}}")],
                (0, 14, 24, 8),
                unit="s",
                steps=[
                    {"color": "red", "value": None},
                    {"color": "transparent", "value": -300},
                    {"color": "red", "value": 300},
                ],
            ),
            table("Failing checks", [f"ssm_check_failure_info{{{JOB}}} == 1"], (0, 22, 24, 10)),
        ],
        with_instance=False,
    )


def instance() -> dict:
    return dashboard(
        "ssm-exporter-instance",
        "SSM exporter / Instance detail",
        [
            panel(
                "stat",
                "Estimated offset",
                [target(f"ssm_clock_estimated_offset_seconds{{{SEL}}}")],
                (0, 0, 6, 4),
                unit="s",
                steps=[
                    {"color": "red", "value": None},
                    {"color": "orange", "value": -300},
                    {"color": "green", "value": -60},
                    {"color": "orange", "value": 60},
                    {"color": "red", "value": 300},
                ],
            ),
            panel(
                "stat",
                "Ping status",
                [target(f"max by (status) (ssm_agent_ping_status{{{SEL}}} == 1)", "{{status}}")],
                (6, 0, 6, 4),
                textMode="name",
            ),
            panel(
                "stat",
                "Agent running",
                [target(f"ssm_agent_running{{{SEL}}}")],
                (12, 0, 4, 4),
                steps=[{"color": "red", "value": None}, {"color": "green", "value": 1}],
            ),
            panel(
                "stat",
                "Kernel clock synchronised",
                [target(f"ssm_clock_sync_status{{{SEL}}}")],
                (16, 0, 4, 4),
                steps=[{"color": "red", "value": None}, {"color": "green", "value": 1}],
            ),
            panel(
                "stat", "Kernel max error", [target(f"ssm_clock_maxerror_seconds{{{SEL}}}")], (20, 0, 4, 4), unit="s"
            ),
            panel(
                "timeseries",
                "Clock offset per source (positive: local clock behind), ±limit",
                [
                    target(f"ssm_clock_offset_seconds{{{SEL}}}", "{{source}} {{server}}"),
                    target(f"ssm_clock_estimated_offset_seconds{{{SEL}}}", "estimate", "B"),
                    target(f"ssm_clock_max_offset_seconds{{{SEL}}}", "+limit", "C"),
                    target(f"-ssm_clock_max_offset_seconds{{{SEL}}}", "-limit", "D"),
                ],
                (0, 4, 24, 9),
                unit="s",
                steps=[
                    {"color": "red", "value": None},
                    {"color": "transparent", "value": -300},
                    {"color": "red", "value": 300},
                ],
            ),
            panel(
                "timeseries",
                "NTP round trip",
                [target(f"ssm_clock_ntp_rtt_seconds{{{SEL}}}", "{{server}}")],
                (0, 13, 8, 7),
                unit="s",
            ),
            panel(
                "timeseries", "NTP stratum", [target(f"ssm_clock_ntp_stratum{{{SEL}}}", "{{server}}")], (8, 13, 8, 7)
            ),
            panel(
                "timeseries",
                "NTP root distance",
                [target(f"ssm_clock_ntp_root_distance_seconds{{{SEL}}}", "{{server}}")],
                (16, 13, 8, 7),
                unit="s",
            ),
            table(
                "Endpoints: TLS valid and certificate margin by the local clock",
                [
                    f"ssm_endpoint_tls_valid{{{SEL}}}",
                    f"ssm_endpoint_cert_clock_margin_seconds{{{SEL}}}",
                    f"ssm_endpoint_cert_not_after_timestamp_seconds{{{SEL}}} - time()",
                ],
                (0, 20, 12, 8),
                unit="s",
            ),
            panel(
                "timeseries",
                "Certificate clock margin (negative: outside its window)",
                [target(f"ssm_endpoint_cert_clock_margin_seconds{{{SEL}}}", "{{endpoint}}")],
                (12, 20, 12, 8),
                unit="s",
                steps=[{"color": "red", "value": None}, {"color": "transparent", "value": 0}],
            ),
            panel(
                "timeseries",
                "Agent log events",
                [target(f"increase(ssm_agent_log_events_total{{{SEL}}}[$__rate_interval])", "{{kind}}")],
                (0, 28, 12, 8),
            ),
            panel(
                "timeseries",
                "Check duration",
                [target(f"ssm_check_duration_seconds{{{SEL}}}", "{{check}} {{target}}")],
                (12, 28, 12, 8),
                unit="s",
            ),
            table(
                "Checks",
                [
                    f"ssm_check_success{{{SEL}}}",
                    f"ssm_check_failure_info{{{SEL}}}",
                    f"time() - ssm_check_last_run_timestamp_seconds{{{SEL}}}",
                ],
                (0, 36, 24, 10),
            ),
        ],
        with_instance=True,
    )


DASHBOARDS = {"ssm-fleet-overview.json": fleet, "ssm-instance-detail.json": instance}


def render() -> dict[str, str]:
    return {name: json.dumps(build(), indent=2, sort_keys=True) + "\n" for name, build in DASHBOARDS.items()}


if __name__ == "__main__":
    for name, text in render().items():
        (OUT / name).write_text(text)
        sys.stdout.write(f"wrote {OUT / name}\n")
