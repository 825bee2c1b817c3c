"""--web.config.file: TLS, client certificates and basic auth on a real exporter process."""

from __future__ import annotations

import base64
import http.client
import ssl
import subprocess
import sys
from pathlib import Path

import bcrypt
import pytest
import trustme

from .helpers import Exporter, config_yaml

PASSWORD = "s3cret"


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, object]:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    client = ca.issue_cert("prometheus.test")
    files = {
        "ca": tmp_path / "ca.pem",
        "cert": tmp_path / "server.pem",
        "key": tmp_path / "server.key",
        "client": tmp_path / "client.pem",
    }
    ca.cert_pem.write_to_path(str(files["ca"]))
    server.cert_chain_pems[0].write_to_path(str(files["cert"]))
    server.private_key_pem.write_to_path(str(files["key"]))
    client.private_key_and_cert_chain_pem.write_to_path(str(files["client"]))
    return files


def start(tmp_path: Path, web_config: str) -> Exporter:
    (tmp_path / "web.yml").write_text(web_config)
    (tmp_path / "c.yml").write_text(config_yaml({}))
    return Exporter(tmp_path / "c.yml", args=("--web.config.file", str(tmp_path / "web.yml")))


def get(port: int, context: ssl.SSLContext, auth: str | None = None) -> tuple[int, dict[str, str]]:
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
    headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}
    connection.request("GET", "/metrics", headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, dict(response.headers)


def test_tls_with_basic_auth(tmp_path, pki) -> None:
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    exporter = start(
        tmp_path,
        f"tls_server_config:\n  cert_file: {pki['cert']}\n  key_file: {pki['key']}\n"
        f"basic_auth_users:\n  prometheus: '{hashed}'\n",
    )
    try:
        context = ssl.create_default_context(cafile=str(pki["ca"]))
        status, headers = get(exporter.port, context)
        assert status == 401 and headers["WWW-Authenticate"].startswith("Basic")
        assert get(exporter.port, context, "prometheus:wrong")[0] == 401
        assert get(exporter.port, context, "nobody:" + PASSWORD)[0] == 401
        assert get(exporter.port, context, "prometheus:" + PASSWORD)[0] == 200
        assert get(exporter.port, context, "prometheus:" + PASSWORD)[0] == 200, "remembered pair still accepted"
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            plain = http.client.HTTPConnection("127.0.0.1", exporter.port, timeout=5)
            plain.request("GET", "/metrics")
            plain.getresponse().read()
    finally:
        assert exporter.stop() == 0


def test_client_certificate_required(tmp_path, pki) -> None:
    exporter = start(
        tmp_path,
        f"tls_server_config:\n  cert_file: {pki['cert']}\n  key_file: {pki['key']}\n"
        f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {pki['ca']}\n  min_version: TLS13\n",
    )
    try:
        anonymous = ssl.create_default_context(cafile=str(pki["ca"]))
        with pytest.raises((ssl.SSLError, ConnectionError)):
            get(exporter.port, anonymous)
        known = ssl.create_default_context(cafile=str(pki["ca"]))
        known.load_cert_chain(str(pki["client"]))
        assert get(exporter.port, known)[0] == 200
    finally:
        exporter.stop()


@pytest.mark.parametrize(
    "text,message",
    [
        ("basic_auth_users:\n  alice: plain-text\n", "basic_auth_users.alice: not a bcrypt hash"),
        (
            "tls_server_config:\n  cert_file: /nonexistent.pem\n  key_file: /nonexistent.key\n",
            "tls_server_config: cannot load certificates",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n",
            "tls_server_config: client_ca_file is required with client_auth_type RequireAndVerifyClientCert",
        ),
        ("http_server_config:\n  http2: true\n", "http_server_config: unknown key"),
    ],
)
def test_invalid_web_config_is_one_line_exit_1(tmp_path, text: str, message: str) -> None:
    (tmp_path / "web.yml").write_text(text)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "exporter",
            "--web.config.file",
            str(tmp_path / "web.yml"),
            "--web.listen-address=127.0.0.1:0",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ssm-exporter: {tmp_path / 'web.yml'}: {message}"), lines
