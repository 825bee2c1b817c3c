"""Map network exceptions to the small, fixed reason vocabulary of the metric contract.

Kept in one place so every family names the same failure the same way (a refused connection is
`connection_refused` whether the clock, endpoint or IMDS check met it).
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl

import aiohttp

# OpenSSL X509_V_ERR_* codes that the metric contract names separately.
_VERIFY_REASONS = {
    9: "tls_cert_not_yet_valid",
    10: "tls_cert_expired",
    62: "tls_hostname_mismatch",
}
_UNTRUSTED = {2, 18, 19, 20, 21, 24, 27, 28}
# Verification failures after which the certificate is still worth fetching for its dates.
CERTIFICATE_REASONS = frozenset(_VERIFY_REASONS.values()) | {"tls_untrusted"}


def tls_verify_reason(err: ssl.SSLCertVerificationError) -> str:
    code = getattr(err, "verify_code", None)
    if code in _VERIFY_REASONS:
        return _VERIFY_REASONS[code]
    if code in _UNTRUSTED:
        return "tls_untrusted"
    return "tls_error"


def classify(err: BaseException) -> str:
    """A reason for `err`, looking through aiohttp's wrappers to the OS or TLS error beneath."""
    if isinstance(err, aiohttp.ClientConnectorCertificateError):
        return tls_verify_reason(err.certificate_error)  # type: ignore[arg-type]
    if isinstance(err, aiohttp.ClientProxyConnectionError | aiohttp.ClientHttpProxyError):
        return "proxy_error"
    if isinstance(err, aiohttp.ClientConnectorDNSError):
        return "dns_error"
    if isinstance(err, aiohttp.ClientConnectorError):
        return classify(err.os_error)
    if isinstance(err, ssl.SSLCertVerificationError):
        return tls_verify_reason(err)
    if isinstance(err, ssl.SSLError):
        return "tls_error"
    if isinstance(err, socket.gaierror):
        return "dns_error"
    if isinstance(err, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(err, asyncio.TimeoutError | TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(err, OSError) and err.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "network_unreachable"
    if isinstance(err, ConnectionResetError | aiohttp.ServerDisconnectedError):
        return "connection_reset"
    return "network_error"
