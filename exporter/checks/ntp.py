"""One NTP time source: several samples through ntplib, the lowest-delay one kept.

A reply is only trusted after the checks a client must make (RFC 5905 section 8): server mode,
a synchronised leap indicator, a stratum of 1-15, and an originate timestamp that echoes our own
request. Anything else is a failure with a reason, never an offset.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import ntplib

from ..config import split_host_port
from ..engine import CheckFailed
from ..neterr import classify

MODE_SERVER = 4
LEAP_UNSYNCHRONISED = 3
# ntplib converts through float seconds; its echo of our own timestamp is exact to well below this.
ORIGINATE_SLACK = 1e-3


@dataclass(frozen=True)
class NtpSample:
    offset: float
    delay: float
    stratum: int
    leap: int
    root_distance: float


def validate(stats: ntplib.NTPStats, sent_after: float, received_before: float) -> None:
    """Raise CheckFailed unless the reply is a usable answer to the request sent in that window."""
    if stats.mode != MODE_SERVER:
        raise CheckFailed("bad_mode", f"mode {stats.mode}")
    if stats.leap == LEAP_UNSYNCHRONISED:
        raise CheckFailed("unsynchronised", "leap indicator 3")
    if not 1 <= stats.stratum <= 15:
        raise CheckFailed("bad_stratum", f"stratum {stats.stratum}")
    origin = ntplib.ntp_to_system_time(stats.orig_timestamp)
    if not sent_after - ORIGINATE_SLACK <= origin <= received_before + ORIGINATE_SLACK:
        raise CheckFailed("originate_mismatch", f"originate {origin:.6f} is not our request")


def query(server: str, timeout: float) -> NtpSample:
    """One blocking NTP exchange (DNS included) within `timeout` seconds.

    Uses time.time() because ntplib stamps its request with it; our window must be on that clock.
    """
    host, port = split_host_port(server, 123)
    before = time.time()
    try:
        stats = ntplib.NTPClient().request(host, version=4, port=port, timeout=timeout)
    except ntplib.NTPException as err:
        reason = "timeout" if "No response" in str(err) else "malformed_reply"
        raise CheckFailed(reason, str(err)) from None
    except (OSError, socket.gaierror) as err:
        raise CheckFailed(classify(err), str(err)) from None
    validate(stats, before, time.time())
    return NtpSample(
        offset=stats.offset,
        delay=stats.delay,
        stratum=stats.stratum,
        leap=stats.leap,
        root_distance=stats.root_delay / 2 + stats.root_dispersion,
    )


def best_of(server: str, samples: int, remaining: Callable[[], float]) -> NtpSample:
    """The lowest-delay valid sample; the deadline is shared out so a dead server fails in time."""
    good: list[NtpSample] = []
    failure: CheckFailed | None = None
    for left in range(samples, 0, -1):
        budget = remaining() / left
        if budget <= 0.01:
            break
        try:
            good.append(query(server, budget))
        except CheckFailed as err:
            failure = err
            if err.reason != "timeout":
                break
    if good:
        return min(good, key=lambda s: s.delay)
    raise failure or CheckFailed("timeout")
