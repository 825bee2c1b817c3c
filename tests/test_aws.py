"""IMDS, STS, SSM and fleet checks with real boto3 against the simulators in tests/sim."""

from __future__ import annotations

import datetime as dt

import pytest

from .helpers import check_done, config_yaml, free_port, value
from .sim.aws import Aws, aws_server, instance
from .sim.imds import Imds, imds_server

INSTANCE = "i-0123456789abcdef0"
HERMETIC = {"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}


@pytest.fixture
def world():
    imds, aws = Imds(instance_id=INSTANCE), Aws(instances=[instance(INSTANCE)])
    with imds_server(imds) as imds_url, aws_server(aws) as aws_url:
        yield imds, aws, imds_url, aws_url


def instance_config(imds_url: str, aws_url: str, **aws_extra) -> str:
    return config_yaml(
        {
            "region": "us-east-1",
            "imds": {"url": imds_url},
            "aws": {"endpoint_urls": {"sts": aws_url, "ssm": aws_url}, "timeout": "10s", **aws_extra},
        }
    )


def done(*checks: str):
    return lambda s: all(check_done(s, c) for c in checks)


def failed(samples, check: str, reason: str) -> bool:
    return value(samples, "ssm_check_failure_info", check=check, target="", reason=reason) == 1


def test_healthy_instance_publishes_ping_status(run_exporter, world) -> None:
    imds, _, imds_url, aws_url = world
    exp = run_exporter(instance_config(imds_url, aws_url), env=HERMETIC)
    samples = exp.wait(done("imds", "instance_profile", "sts", "ssm_api", "ping_status"), "one cycle of each")
    for check in ("imds", "instance_profile", "sts", "ssm_api", "ping_status"):
        assert value(samples, "ssm_check_success", check=check, target="") == 1, check
    assert value(samples, "ssm_agent_ping_status", instance_id=INSTANCE, status="Online") == 1
    assert value(samples, "ssm_agent_ping_status", instance_id=INSTANCE, status="ConnectionLost") == 0
    assert value(samples, "ssm_agent_ping_status", instance_id=INSTANCE, status="Inactive") == 0
    assert value(samples, "ssm_agent_is_latest_version", instance_id=INSTANCE) == 1
    assert value(samples, "ssm_agent_reported_version_info", instance_id=INSTANCE, version="3.3.1142.0") == 1
    assert value(samples, "ssm_agent_last_ping_timestamp_seconds", instance_id=INSTANCE) > 0
    assert value(samples, "ssm_imds_up") == 1 and value(samples, "ssm_instance_profile_attached") == 1
    expiry = value(samples, "ssm_instance_credentials_expiry_timestamp_seconds")
    assert expiry == imds.expiration.replace(microsecond=0).timestamp()
    assert any(r.startswith("PUT /latest/api/token") for r in imds.requests), "IMDSv2 token flow"


@pytest.mark.parametrize("shift", ["-10m", "+10m"])
def test_skewed_clock_gets_signature_expired(run_exporter, world, shift) -> None:
    _, aws, imds_url, aws_url = world
    exp = run_exporter(instance_config(imds_url, aws_url), faketime=shift, env=HERMETIC)
    samples = exp.wait(done("sts", "ssm_api", "ping_status"), "the API checks")
    assert failed(samples, "sts", "signature_expired")
    assert failed(samples, "ssm_api", "signature_expired")
    assert failed(samples, "ping_status", "unknown")
    assert value(samples, "ssm_check_success", check="imds", target="") == 1, "IMDS does not judge signatures"
    assert aws.calls["sts:GetCallerIdentity"] >= 1


def test_connection_lost_fails_ping_status(run_exporter, world) -> None:
    _, aws, imds_url, aws_url = world
    aws.instances[:] = [instance(INSTANCE, "ConnectionLost")]
    exp = run_exporter(instance_config(imds_url, aws_url), env=HERMETIC)
    samples = exp.wait(done("ping_status"), "ping status")
    assert failed(samples, "ping_status", "connection_lost")
    assert value(samples, "ssm_agent_ping_status", instance_id=INSTANCE, status="ConnectionLost") == 1
    assert value(samples, "ssm_agent_ping_status", instance_id=INSTANCE, status="Online") == 0


def test_unmanaged_instance_is_not_managed(run_exporter, world) -> None:
    _, aws, imds_url, aws_url = world
    aws.instances.clear()
    exp = run_exporter(instance_config(imds_url, aws_url), env=HERMETIC)
    samples = exp.wait(done("ssm_api"), "ssm_api")
    assert failed(samples, "ssm_api", "not_managed")


def test_throttling_is_bounded_and_reported(run_exporter, world) -> None:
    _, aws, imds_url, aws_url = world
    aws.throttle = True
    exp = run_exporter(instance_config(imds_url, aws_url, interval="1h", max_attempts=3), env=HERMETIC)
    samples = exp.wait(done("sts", "ssm_api"), "the API checks")
    assert failed(samples, "sts", "throttled") and failed(samples, "ssm_api", "throttled")
    assert aws.calls["sts:GetCallerIdentity"] == 3, "standard retry mode: 3 attempts in all"
    assert aws.calls["ssm:DescribeInstanceInformation"] == 3
    assert value(samples, "ssm_check_duration_seconds", check="sts", target="") < 10


def test_access_denied(run_exporter, world) -> None:
    _, aws, imds_url, aws_url = world
    aws.deny_ssm = True
    exp = run_exporter(instance_config(imds_url, aws_url), env=HERMETIC)
    samples = exp.wait(done("ssm_api"), "ssm_api")
    assert failed(samples, "ssm_api", "access_denied")
    assert value(samples, "ssm_check_success", check="sts", target="") == 1


def test_no_instance_profile(run_exporter, world) -> None:
    imds, _, imds_url, aws_url = world
    imds.role = None
    exp = run_exporter(instance_config(imds_url, aws_url), env=HERMETIC)
    samples = exp.wait(done("instance_profile", "sts"), "profile and sts")
    assert failed(samples, "instance_profile", "no_instance_profile")
    assert value(samples, "ssm_instance_profile_attached") == 0
    assert failed(samples, "sts", "no_credentials")


def test_credentials_expired_by_the_local_clock(run_exporter, world) -> None:
    imds, _, imds_url, aws_url = world
    imds.expiration = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)
    exp = run_exporter(instance_config(imds_url, aws_url), faketime="+10m", env=HERMETIC)
    samples = exp.wait(done("instance_profile"), "instance profile")
    assert failed(samples, "instance_profile", "credentials_expired")


def test_token_refused_and_imdsv1_fallback(run_exporter, world) -> None:
    imds, _, imds_url, aws_url = world
    imds.refuse_tokens, imds.require_v2 = True, False
    strict = run_exporter(instance_config(imds_url, aws_url), env=HERMETIC)
    assert failed(strict.wait(done("imds"), "imds"), "imds", "token_refused")
    fallback = run_exporter(config_yaml({"region": "us-east-1", "imds": {"url": imds_url, "allow_imdsv1": True}}))
    assert value(fallback.wait(done("imds"), "imds"), "ssm_check_success", check="imds", target="") == 1


def test_unreachable_imds(run_exporter) -> None:
    exp = run_exporter(config_yaml({"imds": {"url": f"http://127.0.0.1:{free_port()}"}}))
    samples = exp.wait(done("imds"), "imds")
    assert failed(samples, "imds", "unreachable") and value(samples, "ssm_imds_up") == 0


def test_region_from_imds_when_not_configured(run_exporter, world) -> None:
    imds, aws, imds_url, aws_url = world
    imds.region = "eu-west-1"
    exp = run_exporter(
        config_yaml({"imds": {"url": imds_url}, "aws": {"endpoint_urls": {"sts": aws_url}}}), env=HERMETIC
    )
    samples = exp.wait(done("sts"), "sts")
    assert value(samples, "ssm_check_success", check="sts", target="") == 1
    assert "GET /latest/meta-data/placement/region" in imds.requests


def test_fleet_mode_pages_through_every_instance(run_exporter, world) -> None:
    _, aws, imds_url, aws_url = world
    statuses = ["Online"] * 100 + ["ConnectionLost"] * 15 + ["Inactive"] * 5
    aws.instances[:] = [instance(f"i-{n:017x}", s) for n, s in enumerate(statuses)]
    config = config_yaml(
        {
            "region": "us-east-1",
            "imds": {"url": imds_url},
            "fleet": {"interval": "1h", "page_size": 50},
            "aws": {"enabled": False, "endpoint_urls": {"ssm": aws_url}},
        }
    )
    exp = run_exporter(config, env=HERMETIC)
    samples = exp.wait(done("fleet_poll"), "a fleet poll")
    assert value(samples, "ssm_check_success", check="fleet_poll", target="") == 1
    assert value(samples, "ssm_fleet_instances", status="Online") == 100
    assert value(samples, "ssm_fleet_instances", status="ConnectionLost") == 15
    assert value(samples, "ssm_fleet_instances", status="Inactive") == 5
    lost = [
        k
        for k, v in samples.items()
        if k[0] == "ssm_agent_ping_status" and ("status", "ConnectionLost") in k[1] and v == 1
    ]
    assert len(lost) == 15
    assert aws.calls["ssm:DescribeInstanceInformation"] == 3, "120 instances in pages of 50"


def test_garbage_api_replies_fail_with_a_reason_not_a_traceback(run_exporter, world) -> None:
    _, aws, imds_url, aws_url = world
    aws.garbage = True
    exp = run_exporter(instance_config(imds_url, aws_url), env=HERMETIC)
    samples = exp.wait(done("sts", "ssm_api"), "the API checks")
    assert failed(samples, "sts", "api_error") and failed(samples, "ssm_api", "api_error")
    assert "Traceback" not in exp.log_path.read_text()


def test_garbage_fleet_reply_is_api_error(run_exporter, world) -> None:
    _, aws, imds_url, aws_url = world
    aws.garbage = True
    config = config_yaml(
        {
            "region": "us-east-1",
            "imds": {"url": imds_url},
            "fleet": {},
            "aws": {"enabled": False, "endpoint_urls": {"ssm": aws_url}},
        }
    )
    samples = run_exporter(config, env=HERMETIC).wait(done("fleet_poll"), "a fleet poll")
    assert failed(samples, "fleet_poll", "api_error")
    assert value(samples, "ssm_fleet_instances", status="Online") is None


def test_broken_credentials_document(run_exporter, world) -> None:
    imds, _, imds_url, aws_url = world
    imds.broken_credentials = True
    exp = run_exporter(instance_config(imds_url, aws_url), env=HERMETIC)
    samples = exp.wait(done("instance_profile"), "instance profile")
    assert failed(samples, "instance_profile", "bad_credentials_document")
    assert "Traceback" not in exp.log_path.read_text()


def test_garbage_region_from_imds_is_no_region(run_exporter, world) -> None:
    imds, _, imds_url, _ = world
    imds.region = "<html>captive portal</html>"
    exp = run_exporter(config_yaml({"imds": {"url": imds_url}, "endpoints": {}}), env=HERMETIC)
    samples = exp.wait(lambda s: check_done(s, "endpoint"), "the endpoint check")
    assert failed(samples, "endpoint", "no_region")
    assert "GET /latest/meta-data/placement/region" in imds.requests
