"""Endpoint family against real TLS servers, a silent port, a closed port, DNS, and a proxy.

Each server binds its own loopback address (127.0.0.N), so the `endpoint` label (the configured
host) tells the scenarios apart in one exporter.
"""

from __future__ import annotations

import datetime as dt
import ssl
from contextlib import ExitStack

import pytest
import trustme

from .helpers import check_done, config_yaml, free_port, value
from .servers import ConnectProxy, full_backlog, https_server, silent_tcp

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
DAY = dt.timedelta(days=1)


def serve(stack: ExitStack, host: str, leaf: trustme.LeafCert) -> int:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return stack.enter_context(https_server(context, host=host))


@pytest.fixture
def ca(tmp_path):
    authority = trustme.CA()
    path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, str(path)


def all_done(hosts):
    return lambda s: all(check_done(s, "endpoint", h) for h in hosts)


def test_each_tls_failure_has_its_reason_and_dates_are_still_published(run_exporter, ca) -> None:
    authority, ca_file = ca
    stranger = trustme.CA()
    scenarios = {
        # host: (leaf, server_name, expected reason or None, (not_before, not_after) or None)
        "127.0.0.2": (
            authority.issue_cert("valid.test", not_before=NOW - DAY, not_after=NOW + 30 * DAY),
            "valid.test",
            None,
            (NOW - DAY, NOW + 30 * DAY),
        ),
        "127.0.0.3": (
            authority.issue_cert("early.test", not_before=NOW + DAY, not_after=NOW + 30 * DAY),
            "early.test",
            "tls_cert_not_yet_valid",
            (NOW + DAY, NOW + 30 * DAY),
        ),
        "127.0.0.4": (
            authority.issue_cert("late.test", not_before=NOW - 30 * DAY, not_after=NOW - DAY),
            "late.test",
            "tls_cert_expired",
            (NOW - 30 * DAY, NOW - DAY),
        ),
        "127.0.0.5": (
            authority.issue_cert("other.test", not_before=NOW - DAY, not_after=NOW + DAY),
            "name.test",
            "tls_hostname_mismatch",
            (NOW - DAY, NOW + DAY),
        ),
        "127.0.0.6": (
            stranger.issue_cert("stranger.test", not_before=NOW - DAY, not_after=NOW + DAY),
            "stranger.test",
            "tls_untrusted",
            (NOW - DAY, NOW + DAY),
        ),
    }
    with ExitStack() as stack:
        targets = [
            {"host": host, "port": serve(stack, host, leaf), "server_name": name, "ca_file": ca_file}
            for host, (leaf, name, _, _) in scenarios.items()
        ]
        silent_port = stack.enter_context(silent_tcp("127.0.0.7"))
        full_port = stack.enter_context(full_backlog("127.0.0.9"))
        targets += [
            {"host": "127.0.0.7", "port": silent_port},
            {"host": "127.0.0.8", "port": free_port()},
            {"host": "127.0.0.9", "port": full_port},
            {"host": "no-such-host.invalid", "port": 443},
        ]
        exp = run_exporter(config_yaml({"endpoints": {"targets": targets, "timeout": "2s"}}))
        samples = exp.wait(all_done([t["host"] for t in targets]), "every endpoint probed")

    for host, (_, _, reason, (not_before, not_after)) in scenarios.items():
        if reason is None:
            assert value(samples, "ssm_check_success", check="endpoint", target=host) == 1
            assert value(samples, "ssm_endpoint_tls_valid", endpoint=host) == 1
            assert value(samples, "ssm_endpoint_tls_version_info", endpoint=host, version="TLSv1.3") == 1
            assert value(samples, "ssm_endpoint_tls_handshake_seconds", endpoint=host) > 0
        else:
            assert value(samples, "ssm_check_failure_info", check="endpoint", target=host, reason=reason) == 1, host
            assert value(samples, "ssm_endpoint_tls_valid", endpoint=host) == 0
        assert value(samples, "ssm_endpoint_up", endpoint=host) == 1, host
        assert value(samples, "ssm_endpoint_dns_private", endpoint=host) == 1
        assert value(samples, "ssm_endpoint_cert_not_before_timestamp_seconds", endpoint=host) == not_before.timestamp()
        assert value(samples, "ssm_endpoint_cert_not_after_timestamp_seconds", endpoint=host) == not_after.timestamp()
        margin = value(samples, "ssm_endpoint_cert_clock_margin_seconds", endpoint=host)
        assert (margin > 0) == (reason in (None, "tls_hostname_mismatch", "tls_untrusted")), host

    assert (
        value(samples, "ssm_check_failure_info", check="endpoint", target="127.0.0.7", reason="tls_handshake_timeout")
        == 1
    )
    assert value(samples, "ssm_check_duration_seconds", check="endpoint", target="127.0.0.7") <= 2.0 + 0.5
    assert value(samples, "ssm_endpoint_up", endpoint="127.0.0.7") == 1
    assert (
        value(samples, "ssm_check_failure_info", check="endpoint", target="127.0.0.8", reason="connection_refused") == 1
    )
    assert value(samples, "ssm_endpoint_up", endpoint="127.0.0.8") == 0
    assert value(samples, "ssm_check_failure_info", check="endpoint", target="127.0.0.9", reason="connect_timeout") == 1
    assert value(samples, "ssm_check_duration_seconds", check="endpoint", target="127.0.0.9") <= 2.0 + 0.5
    assert (
        value(samples, "ssm_check_failure_info", check="endpoint", target="no-such-host.invalid", reason="dns_error")
        == 1
    )


@pytest.mark.parametrize("shift,reason,margin", [("-10m", "tls_cert_not_yet_valid", -480.0), (None, None, 120.0)])
def test_skewed_clock_sees_fresh_certificate_as_not_yet_valid(run_exporter, ca, shift, reason, margin) -> None:
    authority, ca_file = ca
    now = dt.datetime.now(dt.timezone.utc)
    leaf = authority.issue_cert("ssm.test", not_before=now - dt.timedelta(minutes=2), not_after=now + 30 * DAY)
    with ExitStack() as stack:
        port = serve(stack, "127.0.0.2", leaf)
        target = {"host": "127.0.0.2", "port": port, "server_name": "ssm.test", "ca_file": ca_file}
        exp = run_exporter(config_yaml({"endpoints": {"targets": [target]}}), faketime=shift)
        samples = exp.wait(all_done(["127.0.0.2"]), "the endpoint probed")
    assert value(samples, "ssm_endpoint_cert_clock_margin_seconds", endpoint="127.0.0.2") == pytest.approx(
        margin, abs=10
    )
    if reason:
        assert value(samples, "ssm_check_failure_info", check="endpoint", target="127.0.0.2", reason=reason) == 1
    else:
        assert value(samples, "ssm_check_success", check="endpoint", target="127.0.0.2") == 1


def test_traffic_goes_through_the_proxy_unless_no_proxy(run_exporter, ca) -> None:
    authority, ca_file = ca
    leaf = authority.issue_cert("valid.test", not_before=NOW - DAY, not_after=NOW + DAY)
    with ExitStack() as stack:
        port = serve(stack, "127.0.0.2", leaf)
        proxy = stack.enter_context(ConnectProxy())
        target = {"host": "127.0.0.2", "port": port, "server_name": "valid.test", "ca_file": ca_file}
        config = config_yaml({"endpoints": {"targets": [target]}})
        exp = run_exporter(config, env={"HTTPS_PROXY": proxy.url})
        samples = exp.wait(all_done(["127.0.0.2"]), "the endpoint probed via the proxy")
        assert value(samples, "ssm_check_success", check="endpoint", target="127.0.0.2") == 1
        assert f"127.0.0.2:{port}" in proxy.tunnels
        assert value(samples, "ssm_endpoint_dns_lookup_seconds", endpoint="127.0.0.2") is None

        tunnels = len(proxy.tunnels)
        bypass = run_exporter(config, env={"HTTPS_PROXY": proxy.url, "NO_PROXY": "localhost,127.0.0.2"})
        samples = bypass.wait(all_done(["127.0.0.2"]), "the endpoint probed directly")
        assert value(samples, "ssm_check_success", check="endpoint", target="127.0.0.2") == 1
        assert value(samples, "ssm_endpoint_dns_lookup_seconds", endpoint="127.0.0.2") is not None
        assert len(proxy.tunnels) == tunnels


def test_dead_proxy_is_proxy_error(run_exporter) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    exp = run_exporter(config_yaml({"endpoints": {"targets": ["127.0.0.2:443"], "proxy": dead}}))
    samples = exp.wait(all_done(["127.0.0.2"]), "the endpoint probed")
    assert value(samples, "ssm_check_failure_info", check="endpoint", target="127.0.0.2", reason="proxy_error") == 1


def test_endpoints_follow_region_and_partition() -> None:
    from exporter.context import service_host

    assert service_host("ssm", "us-east-1") == "ssm.us-east-1.amazonaws.com"
    assert service_host("ec2messages", "cn-north-1") == "ec2messages.cn-north-1.amazonaws.com.cn"
