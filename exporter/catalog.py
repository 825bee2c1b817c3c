"""The metric catalogue: every metric the exporter can publish, declared once.

Checks refer to these names (the engine rejects any other), `docs/metrics.md` documents each of
them (a test holds the two together), and the collector never has to guess a type or HELP.
"""

from __future__ import annotations

from dataclasses import dataclass

CACHED = " Cached: refreshed in the background on the check's interval, not at scrape time."


@dataclass(frozen=True)
class Spec:
    kind: str
    help: str
    labels: tuple[str, ...] = ()


def _g(help_text: str, *labels: str) -> Spec:
    return Spec("gauge", help_text + CACHED, labels)


CATALOG: dict[str, Spec] = {
    # engine
    "ssm_check_success": _g("1 if the check's latest run succeeded, else 0.", "check", "target"),
    "ssm_check_duration_seconds": _g("Duration of the check's latest run.", "check", "target"),
    "ssm_check_last_run_timestamp_seconds": _g("Unix time the check last finished.", "check", "target"),
    "ssm_check_failure_info": _g("1 while the check fails, with the reason.", "check", "target", "reason"),
    "ssm_exporter_build_info": Spec("gauge", "Build of the exporter; always 1.", ("version", "python_version")),
    "ssm_exporter_cycle_duration_seconds": _g("Duration of the family's latest full cycle.", "family"),
    "ssm_exporter_config_last_reload_successful": Spec("gauge", "1 if the last config reload (SIGHUP) succeeded."),
    "ssm_exporter_config_last_reload_success_timestamp_seconds": Spec(
        "gauge", "Unix time of the last successful config load."
    ),
    # clock
    "ssm_clock_offset_seconds": _g(
        "Reference clock minus local clock; positive: local clock behind.", "source", "server"
    ),
    "ssm_clock_estimated_offset_seconds": _g("Median offset of the reachable sources; positive: local clock behind."),
    "ssm_clock_max_offset_seconds": _g("Configured limit on |offset| (SigV4 rejects requests beyond 300 s)."),
    "ssm_clock_source_up": _g("1 if the time source answered with a usable time.", "source", "server"),
    "ssm_clock_http_date_verified": _g("1 if the Date header was read over a verified TLS connection.", "server"),
    "ssm_clock_ntp_rtt_seconds": _g("Round-trip delay of the best NTP sample.", "server"),
    "ssm_clock_ntp_stratum": _g("Stratum of the NTP server.", "server"),
    "ssm_clock_ntp_leap": _g("Leap indicator of the NTP server (3: unsynchronised).", "server"),
    "ssm_clock_ntp_root_distance_seconds": _g("Root delay / 2 + root dispersion of the NTP server.", "server"),
    "ssm_clock_sync_status": _g("1 if the kernel clock is synchronised (adjtimex not TIME_ERROR)."),
    "ssm_clock_maxerror_seconds": _g("Kernel maximum error of the clock (adjtimex)."),
    "ssm_clock_esterror_seconds": _g("Kernel estimated error of the clock (adjtimex)."),
    # endpoints
    "ssm_endpoint_up": _g("1 if a TCP connection to the endpoint succeeded.", "endpoint"),
    "ssm_endpoint_tls_valid": _g("1 if the TLS handshake verified the certificate.", "endpoint"),
    "ssm_endpoint_dns_private": _g("1 if every resolved address is private (VPC endpoint private DNS).", "endpoint"),
    "ssm_endpoint_dns_lookup_seconds": _g("DNS resolution time of the endpoint.", "endpoint"),
    "ssm_endpoint_connect_seconds": _g("TCP connect time (through the proxy if one is used).", "endpoint"),
    "ssm_endpoint_tls_handshake_seconds": _g("TLS handshake time.", "endpoint"),
    "ssm_endpoint_tls_version_info": _g("Negotiated TLS version; always 1.", "endpoint", "version"),
    "ssm_endpoint_cert_not_before_timestamp_seconds": _g("NotBefore of the leaf certificate.", "endpoint"),
    "ssm_endpoint_cert_not_after_timestamp_seconds": _g("NotAfter of the leaf certificate.", "endpoint"),
    "ssm_endpoint_cert_chain_earliest_expiry_timestamp_seconds": _g(
        "Earliest NotAfter in the presented chain.", "endpoint"
    ),
    "ssm_endpoint_cert_clock_margin_seconds": _g(
        "min(now - NotBefore, NotAfter - now) of the leaf by the local clock; negative: outside its window.", "endpoint"
    ),
    # agent, instance metadata, AWS APIs, fleet
    "ssm_agent_installed": _g("1 if an SSM Agent binary was found."),
    "ssm_agent_running": _g("1 if an SSM Agent process or service is running."),
    "ssm_agent_info": _g("Version of the installed SSM Agent; always 1.", "version"),
    "ssm_agent_ping_status": _g("SSM ping status, one 0/1 series per status.", "instance_id", "status"),
    "ssm_agent_last_ping_timestamp_seconds": _g("LastPingDateTime reported by SSM.", "instance_id"),
    "ssm_agent_is_latest_version": _g("1 if SSM reports the agent as the latest version.", "instance_id"),
    "ssm_agent_reported_version_info": _g("Agent version as SSM reports it; always 1.", "instance_id", "version"),
    "ssm_agent_log_events_total": Spec(
        "counter", "Agent log lines matching a known failure signature since start.", ("kind",)
    ),
    "ssm_agent_log_last_event_timestamp_seconds": _g("Unix time a line of this kind was last seen.", "kind"),
    "ssm_imds_up": _g("1 if instance metadata answered."),
    "ssm_instance_profile_attached": _g("1 if an IAM instance profile is attached."),
    "ssm_instance_credentials_expiry_timestamp_seconds": _g("Expiration of the instance profile credentials."),
    "ssm_fleet_instances": _g("Managed instances in the region by ping status.", "status"),
}

PING_STATUSES = ("Online", "ConnectionLost", "Inactive")
