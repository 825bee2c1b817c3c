"""STS (query protocol, XML) and SSM (awsJson1.1) as boto3 speaks them, judging SigV4 time.

The request's X-Amz-Date is compared with this process's clock; beyond 5 minutes either way the
answer is AWS's own: SSM `InvalidSignatureException`, STS `SignatureDoesNotMatch`, with the
"Signature expired" / "Signature not yet current" message. The signature bytes themselves are
not recomputed: the credential's access key must be one the simulator issued.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import json
import re
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..servers import http_server

WINDOW = dt.timedelta(minutes=5)
AMZ_DATE = "%Y%m%dT%H%M%SZ"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


class AwsError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Aws:
    access_keys: set[str] = field(default_factory=lambda: {"ASIASIMULATOR0000001"})
    instances: list[dict] = field(default_factory=list)
    throttle: bool = False
    deny_ssm: bool = False
    garbage: bool = False  # answer 200 with a body no parser accepts
    clock: Callable[[], float] = time.time
    calls: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def authenticate(self, headers, invalid_key_code: str) -> None:
        match = re.search(r"Credential=([^/]+)/", headers.get("Authorization", ""))
        if not match:
            raise AwsError(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
        if match.group(1) not in self.access_keys:
            raise AwsError(403, invalid_key_code, "The security token included in the request is invalid.")
        signed = dt.datetime.strptime(headers.get("X-Amz-Date", ""), AMZ_DATE).replace(tzinfo=dt.timezone.utc)
        now = dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc)
        stamp = lambda t: t.strftime(AMZ_DATE)  # noqa: E731
        if signed < now - WINDOW:
            raise AwsError(
                400,
                "",
                f"Signature expired: {stamp(signed)} is now earlier than {stamp(now - WINDOW)} ({stamp(now)} - 5 min.)",
            )
        if signed > now + WINDOW:
            raise AwsError(
                400,
                "",
                f"Signature not yet current: {stamp(signed)} is still later than "
                f"{stamp(now + WINDOW)} ({stamp(now)} + 5 min.)",
            )
        if self.throttle:
            raise AwsError(400, "", "Rate exceeded")

    def describe_instance_information(self, request: dict) -> dict:
        if self.deny_ssm:
            raise AwsError(
                400, "AccessDeniedException", "User is not authorized to perform: ssm:DescribeInstanceInformation"
            )
        limit = request.get("MaxResults", 50)
        if not 5 <= limit <= 50:
            raise AwsError(
                400,
                "ValidationException",
                f"1 validation error detected: Value '{limit}' at 'maxResults' failed to satisfy constraint",
            )
        wanted = {v for f in request.get("Filters", []) if f.get("Key") == "InstanceIds" for v in f["Values"]}
        matching = [i for i in self.instances if not wanted or i["InstanceId"] in wanted]
        start = int(base64.b64decode(request["NextToken"]).decode()) if request.get("NextToken") else 0
        reply: dict = {"InstanceInformationList": matching[start : start + limit]}
        if start + limit < len(matching):
            reply["NextToken"] = base64.b64encode(str(start + limit).encode()).decode()
        return reply


def _handler(state: Aws) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, body: str, content_type: str, error_type: str = "") -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
            if error_type:
                self.send_header("x-amzn-ErrorType", error_type)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if state.garbage:
                return self._send(200, "\x00<<not json, not xml{", "application/x-amz-json-1.1")
            target = self.headers.get("X-Amz-Target", "")
            if target.startswith("AmazonSSM."):
                self._ssm(target.split(".", 1)[1], body)
            else:
                self._sts(urllib.parse.parse_qs(body.decode()))

        def _ssm(self, operation: str, body: bytes) -> None:
            kind = "application/x-amz-json-1.1"
            with state.lock:
                state.calls[f"ssm:{operation}"] += 1
            try:
                state.authenticate(self.headers, "UnrecognizedClientException")
                if operation != "DescribeInstanceInformation":
                    raise AwsError(400, "UnknownOperationException", "")
                reply = state.describe_instance_information(json.loads(body or b"{}"))
            except AwsError as err:
                code = err.code or (
                    "ThrottlingException" if err.message == "Rate exceeded" else "InvalidSignatureException"
                )
                return self._send(err.status, json.dumps({"__type": code, "message": err.message}), kind, code)
            self._send(200, json.dumps(reply, default=lambda t: t.timestamp()), kind)

        def _sts(self, form: dict[str, list[str]]) -> None:
            action = form.get("Action", [""])[0]
            with state.lock:
                state.calls[f"sts:{action}"] += 1
            try:
                state.authenticate(self.headers, "InvalidClientTokenId")
                if action != "GetCallerIdentity":
                    raise AwsError(400, "InvalidAction", f"Could not find operation {action}")
            except AwsError as err:
                code = err.code or ("Throttling" if err.message == "Rate exceeded" else "SignatureDoesNotMatch")
                status = 403 if code == "SignatureDoesNotMatch" else err.status
                xml = (
                    f'<ErrorResponse xmlns="{STS_NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
                    f"<Message>{err.message}</Message></Error><RequestId>0</RequestId></ErrorResponse>"
                )
                return self._send(status, xml, "text/xml")
            xml = (
                f'<GetCallerIdentityResponse xmlns="{STS_NS}"><GetCallerIdentityResult>'
                "<Arn>arn:aws:sts::123456789012:assumed-role/ssm-managed-instance/i-0123456789abcdef0</Arn>"
                "<UserId>AROASIMULATOR:i-0123456789abcdef0</UserId><Account>123456789012</Account>"
                "</GetCallerIdentityResult><ResponseMetadata><RequestId>0</RequestId></ResponseMetadata>"
                "</GetCallerIdentityResponse>"
            )
            self._send(200, xml, "text/xml")

        def log_message(self, *args: object) -> None:
            return None

    return Handler


def instance(instance_id: str, status: str = "Online", **extra) -> dict:
    """An InstanceInformation entry as SSM returns it."""
    return {
        "InstanceId": instance_id,
        "PingStatus": status,
        "LastPingDateTime": dt.datetime.now(dt.timezone.utc),
        "AgentVersion": "3.3.1142.0",
        "IsLatestVersion": True,
        "PlatformType": "Windows",
        "PlatformName": "Microsoft Windows Server 2022 Datacenter",
        "ResourceType": "EC2Instance",
        **extra,
    }


@contextmanager
def aws_server(state: Aws) -> Iterator[str]:
    """Serve STS and SSM on one port; yields the endpoint URL for both."""
    with http_server(_handler(state)) as port:
        yield f"http://127.0.0.1:{port}"
