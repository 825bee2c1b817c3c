"""The kernel's own view of clock sync, read with adjtimex(2) like node_exporter's timex collector.

Only on Linux: elsewhere `available()` is False and the clock family simply skips it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from dataclasses import dataclass

TIME_ERROR = 5  # adjtimex return value: clock not synchronised
MICROSECONDS = 1e-6


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    ]


@dataclass(frozen=True)
class KernelClock:
    synchronised: bool
    maxerror: float
    esterror: float


def available() -> bool:
    return sys.platform.startswith("linux")


def read() -> KernelClock:
    """Query without changing anything (modes = 0)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    timex = _Timex()
    state = libc.adjtimex(ctypes.byref(timex))
    if state < 0:
        raise OSError(ctypes.get_errno(), "adjtimex failed")
    return KernelClock(
        synchronised=state != TIME_ERROR,
        maxerror=timex.maxerror * MICROSECONDS,
        esterror=timex.esterror * MICROSECONDS,
    )
