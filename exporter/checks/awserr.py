"""Map botocore failures to the metric contract's reasons.

`signature_expired` is the one that matters most: AWS answers a request signed more than five
minutes away from its clock with InvalidSignatureException (JSON services such as SSM) or
SignatureDoesNotMatch (query services such as STS), both saying "Signature expired" or
"Signature not yet current". That is clock skew, whatever else looks healthy.
"""

from __future__ import annotations

from botocore import exceptions as bx

_SKEW_MESSAGES = ("signature expired", "signature not yet current", "request time too skewed")
_CODES = {
    "AccessDenied": "access_denied",
    "AccessDeniedException": "access_denied",
    "UnauthorizedOperation": "access_denied",
    "UnrecognizedClientException": "invalid_credentials",
    "InvalidClientTokenId": "invalid_credentials",
    "ExpiredToken": "credentials_expired",
    "ExpiredTokenException": "credentials_expired",
    "Throttling": "throttled",
    "ThrottlingException": "throttled",
    "TooManyRequestsException": "throttled",
    "RequestLimitExceeded": "throttled",
    "RequestTimeTooSkewed": "signature_expired",
}


def classify(err: BaseException) -> str:
    if isinstance(err, bx.ClientError):
        error = err.response.get("Error", {})
        code, message = str(error.get("Code", "")), str(error.get("Message", "")).lower()
        if code in ("InvalidSignatureException", "SignatureDoesNotMatch"):
            return "signature_expired" if any(m in message for m in _SKEW_MESSAGES) else "invalid_signature"
        return _CODES.get(code, "api_error")
    if isinstance(
        err,
        bx.NoCredentialsError | bx.PartialCredentialsError | bx.CredentialRetrievalError | bx.MetadataRetrievalError,
    ):
        return "no_credentials"
    if isinstance(
        err,
        bx.EndpointConnectionError
        | bx.ConnectTimeoutError
        | bx.ReadTimeoutError
        | bx.ConnectionClosedError
        | bx.SSLError
        | bx.ProxyConnectionError,
    ):
        return "endpoint_unreachable"
    if isinstance(err, bx.NoRegionError):
        return "no_region"
    return "api_error"


def detail(err: BaseException) -> str:
    """A one-line description for the debug log: never credentials, never a traceback."""
    return f"{type(err).__name__}: {str(err).splitlines()[0][:300] if str(err) else ''}"
