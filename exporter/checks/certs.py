"""Pure certificate helpers: validity dates and the clock margin. No network code here.

The margin is judged by the local clock on purpose: a certificate that is valid by AWS's clock
but "not yet valid" by this host's is exactly what a skewed clock does to the agent's TLS.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from cryptography import x509


@dataclass(frozen=True)
class Validity:
    not_before: float
    not_after: float

    def margin(self, now: float) -> float:
        """Seconds inside the window by `now`; negative: outside it (early or expired)."""
        return min(now - self.not_before, self.not_after - now)


def validity(der: bytes) -> Validity:
    cert = x509.load_der_x509_certificate(der)
    return Validity(cert.not_valid_before_utc.timestamp(), cert.not_valid_after_utc.timestamp())


def presented_chain(ssl_object: ssl.SSLObject) -> list[bytes]:
    """DER of every certificate the peer sent, leaf first, verified or not.

    Python 3.13 made this public; 3.11 and 3.12 have the same call on the private `_sslobj`.
    """
    public = getattr(ssl_object, "get_unverified_chain", None)
    if public is not None:
        return [bytes(der) for der in public() or []]
    private = getattr(getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None)
    if private is not None:
        return [cert.public_bytes(ssl._ssl.ENCODING_DER) for cert in private() or []]  # type: ignore[attr-defined]
    leaf = ssl_object.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def earliest_expiry(chain: list[bytes]) -> float:
    return min(validity(der).not_after for der in chain)
