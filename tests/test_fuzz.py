"""Property tests: hostile config text and NTP replies end in a result or a named failure only."""

from __future__ import annotations

import struct

import ntplib
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter import config
from exporter.checks import ntp
from exporter.engine import CheckFailed

NTP_REASONS = {"bad_mode", "unsynchronised", "bad_stratum", "originate_mismatch"}

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
keys = st.sampled_from(["region", "interval", "timeout", "workers", "clock", "endpoints", "agent", "imds", "aws", "x"])
documents = st.dictionaries(keys, values, max_size=6)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_any_config_document_is_valid_or_one_line_problems(document) -> None:
    try:
        config.parse(yaml.safe_dump(document))
    except config.ConfigError as err:
        assert err.problems and all(p and "\n" not in p for p in err.problems)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_any_text_is_valid_or_one_line_problems(raw: bytes) -> None:
    try:
        config.parse(raw.decode("utf-8", "replace"))
    except config.ConfigError as err:
        assert err.problems and all(p and "\n" not in p for p in err.problems)


@settings(max_examples=500, deadline=None)
@given(st.binary(min_size=48, max_size=68), st.floats(min_value=1e9, max_value=3e9))
def test_any_ntp_reply_is_accepted_or_rejected_with_a_reason(packet: bytes, sent: float) -> None:
    stats = ntplib.NTPStats()
    stats.from_data(packet)
    try:
        ntp.validate(stats, sent, sent + 0.01)
    except CheckFailed as failure:
        assert failure.reason in NTP_REASONS
    else:
        assert stats.mode == 4 and stats.leap != 3 and 1 <= stats.stratum <= 15


def test_a_reply_echoing_our_request_is_accepted() -> None:
    sent = 1_795_000_000.25
    seconds = sent + ntplib.NTP.NTP_DELTA
    origin = struct.pack("!2I", int(seconds), int((seconds % 1) * 2**32))
    packet = struct.pack("!B B B b 3I", 0 << 6 | 4 << 3 | 4, 2, 6, -20, 0, 0, 0) + b"\0" * 8 + origin + b"\0" * 16
    stats = ntplib.NTPStats()
    stats.from_data(packet)
    ntp.validate(stats, sent - 0.001, sent + 0.001)
