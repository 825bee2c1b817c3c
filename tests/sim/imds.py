"""An instance metadata service: IMDSv2 token flow, instance identity, an instance profile."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..servers import http_server

TOKEN_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"


@dataclass
class Imds:
    instance_id: str = "i-0123456789abcdef0"
    region: str = "us-east-1"
    role: str | None = "ssm-managed-instance"
    expiration: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=6))
    access_key: str = "ASIASIMULATOR0000001"
    secret_key: str = "simulated/secret/key/0000000000000000000"
    refuse_tokens: bool = False
    require_v2: bool = True
    broken_credentials: bool = False
    tokens: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def item(self, path: str) -> str | None:
        base = "/latest/meta-data/"
        items = {
            "instance-id": self.instance_id,
            "placement/region": self.region,
            "placement/availability-zone": self.region + "a",
        }
        if self.role:
            items["iam/info"] = json.dumps(
                {"Code": "Success", "InstanceProfileArn": f"arn:aws:iam::123456789012:instance-profile/{self.role}"}
            )
            items["iam/security-credentials/"] = self.role
            items[f"iam/security-credentials/{self.role}"] = json.dumps(
                {
                    "Code": "Success",
                    "Type": "AWS-HMAC",
                    "AccessKeyId": self.access_key,
                    "SecretAccessKey": self.secret_key,
                    "Token": "simulated-session-token",
                    "LastUpdated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "Expiration": self.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
            if self.broken_credentials:
                items[f"iam/security-credentials/{self.role}"] = '{"Code": "Success", "Expiration": '
        return items.get(path[len(base) :]) if path.startswith(base) else None


def _handler(state: Imds) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, body: str = "") -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_PUT(self) -> None:  # noqa: N802
            with state.lock:
                state.requests.append(f"PUT {self.path}")
            if self.path != "/latest/api/token" or not self.headers.get(TOKEN_TTL_HEADER):
                return self._send(400)
            if state.refuse_tokens:
                return self._send(403)
            token = secrets.token_urlsafe(24)
            with state.lock:
                state.tokens.add(token)
            self._send(200, token)

        def do_GET(self) -> None:  # noqa: N802
            with state.lock:
                state.requests.append(f"GET {self.path}")
                token_ok = self.headers.get(TOKEN_HEADER) in state.tokens
            if state.require_v2 and not token_ok:
                return self._send(401)
            body = state.item(self.path)
            self._send(200, body) if body is not None else self._send(404)

        def log_message(self, *args: object) -> None:
            return None

    return Handler


@contextmanager
def imds_server(state: Imds) -> Iterator[str]:
    """Serve `state`; yields the base URL (for `imds.url`)."""
    with http_server(_handler(state)) as port:
        yield f"http://127.0.0.1:{port}"
