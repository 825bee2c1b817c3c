"""Clock family against real references: chronyd, fake NTP responders, a local HTTPS Date."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
import time

import pytest
import trustme

from exporter.checks import http_date, ntp

from .helpers import check_done, config_yaml, free_port, value
from .servers import ConnectProxy, fake_ntp, https_server

NTP_TOLERANCE = 0.005
HTTP_DATE_TOLERANCE = 1.5  # Date has 1 s resolution


def ntp_only(servers: list[str], **extra) -> str:
    return config_yaml({"clock": {"servers": servers, "http_date": {"enabled": False}, **extra}})


@pytest.mark.parametrize("shift,expected", [("-10m", 600.0), ("+10m", -600.0)])
def test_faketime_skew_is_measured_and_fails_clock_skew(run_exporter, chronyd, shift, expected) -> None:
    exp = run_exporter(ntp_only([chronyd]), faketime=shift)
    samples = exp.wait(lambda s: check_done(s, "clock_skew"), "a clock cycle under faketime")
    offset = value(samples, "ssm_clock_offset_seconds", source="ntp", server=chronyd)
    assert offset == pytest.approx(expected, abs=NTP_TOLERANCE)
    assert value(samples, "ssm_clock_estimated_offset_seconds") == pytest.approx(expected, abs=NTP_TOLERANCE)
    assert value(samples, "ssm_check_success", check="clock_source", target=chronyd) == 1
    assert value(samples, "ssm_check_success", check="clock_skew", target="") == 0
    assert value(samples, "ssm_check_failure_info", check="clock_skew", target="", reason="offset_too_large") == 1
    assert value(samples, "ssm_clock_ntp_stratum", server=chronyd) == 8  # chronyd: local stratum 8
    assert value(samples, "ssm_clock_ntp_leap", server=chronyd) == 0


def test_no_skew_reads_about_zero_and_passes(run_exporter, chronyd) -> None:
    exp = run_exporter(ntp_only([chronyd]))
    samples = exp.wait(lambda s: check_done(s, "clock_skew"), "a clock cycle")
    assert value(samples, "ssm_clock_offset_seconds", source="ntp", server=chronyd) == pytest.approx(
        0, abs=NTP_TOLERANCE
    )
    assert value(samples, "ssm_check_success", check="clock_skew", target="") == 1
    assert value(samples, "ssm_clock_source_up", source="ntp", server=chronyd) == 1
    assert 0 < value(samples, "ssm_clock_ntp_rtt_seconds", server=chronyd) < 0.1


def test_silent_server_times_out_within_deadline_others_unaffected(run_exporter, chronyd) -> None:
    dead = f"127.0.0.1:{free_port(kind=2)}"
    exp = run_exporter(ntp_only([dead, chronyd], timeout="2s"))
    samples = exp.wait(lambda s: check_done(s, "clock_skew"), "a clock cycle")
    assert value(samples, "ssm_check_failure_info", check="clock_source", target=dead, reason="timeout") == 1
    assert value(samples, "ssm_check_duration_seconds", check="clock_source", target=dead) <= 2.0 + 0.5
    assert value(samples, "ssm_clock_source_up", source="ntp", server=dead) == 0
    assert value(samples, "ssm_check_success", check="clock_source", target=chronyd) == 1
    assert value(samples, "ssm_check_success", check="clock_skew", target="") == 1


def test_servers_are_queried_concurrently(run_exporter) -> None:
    """Each responder answers only while the other also has a request waiting."""
    both = threading.Barrier(2)
    with fake_ntp("good", rendezvous=both) as first, fake_ntp("good", rendezvous=both) as second:
        servers = [f"127.0.0.1:{first}", f"127.0.0.1:{second}"]
        exp = run_exporter(ntp_only(servers, samples=1, timeout="3s"))
        samples = exp.wait(lambda s: check_done(s, "clock_skew"), "a clock cycle")
    for server in servers:
        assert value(samples, "ssm_check_success", check="clock_source", target=server) == 1, server


def test_no_reachable_source_is_no_source(run_exporter) -> None:
    dead = f"127.0.0.1:{free_port(kind=2)}"
    exp = run_exporter(ntp_only([dead], timeout="1s"))
    samples = exp.wait(lambda s: check_done(s, "clock_skew"), "a clock cycle")
    assert value(samples, "ssm_check_failure_info", check="clock_skew", target="", reason="no_source") == 1
    assert value(samples, "ssm_clock_estimated_offset_seconds") is None


BAD_REPLIES = {
    "leap3": "unsynchronised",
    "stratum0": "bad_stratum",
    "stratum16": "bad_stratum",
    "bad_originate": "originate_mismatch",
    "garbage": "malformed_reply",
    "wrong_mode": "bad_mode",
}


def test_invalid_replies_are_rejected_with_their_reason(run_exporter) -> None:
    from contextlib import ExitStack

    with ExitStack() as stack:
        servers = {b: f"127.0.0.1:{stack.enter_context(fake_ntp(b))}" for b in BAD_REPLIES}
        good = f"[::1]:{stack.enter_context(fake_ntp('good', host='::1'))}"
        exp = run_exporter(ntp_only(list(servers.values()) + [good], timeout="2s"))
        samples = exp.wait(lambda s: check_done(s, "clock_skew"), "a clock cycle")
    for behaviour, server in servers.items():
        assert (
            value(samples, "ssm_check_failure_info", check="clock_source", target=server, reason=BAD_REPLIES[behaviour])
            == 1
        ), behaviour
        assert value(samples, "ssm_clock_offset_seconds", source="ntp", server=server) is None, behaviour
    assert value(samples, "ssm_check_success", check="clock_source", target=good) == 1, "IPv6 server"
    assert value(samples, "ssm_clock_offset_seconds", source="ntp", server=good) == pytest.approx(0, abs=0.05)
    assert value(samples, "ssm_check_success", check="clock_skew", target="") == 1


def test_unresolvable_server_is_dns_error() -> None:
    with pytest.raises(ntp.CheckFailed) as failure:
        ntp.query("no-such-host.invalid", 2)
    assert failure.value.reason == "dns_error"


@pytest.fixture
def ssm_like_endpoint(tmp_path):
    """HTTPS with a certificate issued two minutes ago, so a clock 10 minutes slow can't verify it."""
    ca = trustme.CA()
    now = dt.datetime.now(dt.timezone.utc)
    leaf = ca.issue_cert("ssm.test", not_before=now - dt.timedelta(minutes=2), not_after=now + dt.timedelta(days=1))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with https_server(context) as port:
        yield {"host": "127.0.0.1", "port": port, "server_name": "ssm.test", "ca_file": str(ca_file)}


@pytest.mark.parametrize("shift,expected,verified", [(None, 0.0, 1), ("-10m", 600.0, 0), ("+10m", -600.0, 1)])
def test_http_date_offset_matches_the_shift(run_exporter, ssm_like_endpoint, shift, expected, verified) -> None:
    config = config_yaml({"clock": {"servers": [], "http_date": {"targets": [ssm_like_endpoint]}}})
    exp = run_exporter(config, faketime=shift)
    samples = exp.wait(lambda s: check_done(s, "clock_skew"), "a clock cycle")
    server = f"https://127.0.0.1:{ssm_like_endpoint['port']}"
    assert value(samples, "ssm_check_success", check="clock_source", target=server) == 1
    offset = value(samples, "ssm_clock_offset_seconds", source="http_date", server=server)
    assert offset == pytest.approx(expected, abs=HTTP_DATE_TOLERANCE)
    assert value(samples, "ssm_clock_http_date_verified", server=server) == verified
    assert value(samples, "ssm_check_success", check="clock_skew", target="") == (1 if shift is None else 0)


def test_http_date_goes_through_the_agents_proxy(run_exporter, ssm_like_endpoint) -> None:
    with ConnectProxy() as proxy:
        config = config_yaml({"clock": {"servers": [], "http_date": {"targets": [ssm_like_endpoint]}}})
        exp = run_exporter(config, env={"HTTPS_PROXY": proxy.url})
        samples = exp.wait(lambda s: check_done(s, "clock_skew"), "a clock cycle")
    server = f"https://127.0.0.1:{ssm_like_endpoint['port']}"
    assert value(samples, "ssm_check_success", check="clock_source", target=server) == 1
    assert f"127.0.0.1:{ssm_like_endpoint['port']}" in proxy.tunnels


@pytest.mark.parametrize(
    "header", ["Wed, 25 Nov 2026 18:00:00 GMT", "Wed, 25 Nov 2026 18:00:00 -0000", "Wed, 25 Nov 2026 19:00:00 +0100"]
)
def test_date_header_is_utc_whatever_the_local_zone(header: str, monkeypatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # a naive datetime would be read as +05:30 here
    time.tzset()
    assert http_date.server_time(header) == dt.datetime(2026, 11, 25, 18, tzinfo=dt.timezone.utc).timestamp() + 0.5


def test_unparseable_date_header_is_bad_date_header() -> None:
    with pytest.raises(ntp.CheckFailed) as failure:
        http_date.server_time("yesterday-ish")
    assert failure.value.reason == "bad_date_header"
