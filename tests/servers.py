"""Small real servers for the tests, each on a loopback port chosen at run time."""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import ntplib

from .helpers import free_port, poll

NTP_EPOCH_OFFSET = 2208988800
NTP_FORMAT = "!B B B b 11I"


def _ntp_time(t: float) -> tuple[int, int]:
    t += NTP_EPOCH_OFFSET
    return int(t), int((t - int(t)) * 2**32)


def ntp_reply(request: bytes, behaviour: str, now: float) -> bytes:
    """A server reply to `request`, broken the way `behaviour` says ('good' is a correct one)."""
    if behaviour == "garbage":
        return os.urandom(11)
    leap = 3 if behaviour == "leap3" else 0
    mode = 3 if behaviour == "wrong_mode" else 4
    stratum = 0 if behaviour == "stratum0" else 16 if behaviour == "stratum16" else 2
    originate = request[40:48]
    if behaviour == "bad_originate":
        originate = struct.pack("!2I", *_ntp_time(now - 3600))
    sec, frac = _ntp_time(now)
    header = struct.pack("!B B B b 3I", leap << 6 | 4 << 3 | mode, stratum, 6, -20, 0, 0, 0x7F000001)
    return header + struct.pack("!2I", sec, frac) + originate + struct.pack("!4I", sec, frac, sec, frac)


@contextmanager
def _background(
    sock: socket.socket, step: Callable[[], None], cleanup: Callable[[], None] = lambda: None
) -> Iterator[int]:
    """Run `step` over and over in a thread for the life of the context; yields the socket's port."""
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            step()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        cleanup()
        sock.close()


@contextmanager
def fake_ntp(behaviour: str, host: str = "127.0.0.1", rendezvous: threading.Barrier | None = None) -> Iterator[int]:
    """A UDP NTP responder with one behaviour; yields its port.

    With `rendezvous`, a request is answered only once every responder sharing the barrier has
    one waiting: a client that asks them one after the other never gets an answer.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((host, 0))
    sock.settimeout(0.1)

    def answer() -> None:
        try:
            request, peer = sock.recvfrom(512)
        except TimeoutError:
            return
        if rendezvous is not None:
            try:
                rendezvous.wait(timeout=5)
            except threading.BrokenBarrierError:
                rendezvous.reset()
                return
        if behaviour != "silent":
            sock.sendto(ntp_reply(request, behaviour, time.time()), peer)

    with _background(sock, answer) as port:
        yield port


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b'{"__type":"UnknownOperationException"}'
        self.send_response(404)  # send_response adds Date from this process's (unfaked) clock
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@contextmanager
def https_server(context: ssl.SSLContext, host: str = "127.0.0.1") -> Iterator[int]:
    """An HTTPS server answering every GET with 404 and a Date header, like an AWS endpoint."""
    with http_server(_Handler, host, context) as port:
        yield port


@contextmanager
def http_server(
    handler: type[http.server.BaseHTTPRequestHandler], host: str = "127.0.0.1", context: ssl.SSLContext | None = None
) -> Iterator[int]:
    """A threaded HTTP(S) server with `handler` on a fresh port; yields the port."""
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def chronyd_server(workdir: Path) -> Iterator[str]:
    """A real chronyd (`-x`: never touches the system clock) serving NTP on a fresh loopback port."""
    binary = shutil.which("chronyd") or "/usr/sbin/chronyd"
    port = free_port(kind=socket.SOCK_DGRAM)
    conf = workdir / "chrony.conf"
    conf.write_text(
        f"port {port}\nbindaddress 127.0.0.1\nlocal stratum 8\nallow 127.0.0.1\ncmdport 0\n"
        f"pidfile {workdir}/chronyd.pid\ndriftfile {workdir}/chrony.drift\n"
    )
    proc = subprocess.Popen([binary, "-x", "-d", "-f", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def answers() -> bool:
        assert proc.poll() is None, "chronyd exited"
        try:
            return ntplib.NTPClient().request("127.0.0.1", port=port, timeout=0.2).leap != 3
        except ntplib.NTPException:
            return False

    try:
        poll(answers, what="chronyd to serve")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def silent_tcp(host: str = "127.0.0.1") -> Iterator[int]:
    """Accepts TCP connections and never says a word: a TLS handshake that never completes."""
    sock = socket.socket()
    sock.bind((host, 0))
    sock.listen(16)
    sock.settimeout(0.05)
    held: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            held.append(sock.accept()[0])

    def close_held() -> None:
        for conn in held:
            conn.close()

    with _background(sock, accept, close_held) as port:
        yield port


class ConnectProxy:
    """A minimal HTTP CONNECT proxy that records every tunnel it opens."""

    def __init__(self, host: str = "127.0.0.1"):
        self.tunnels: list[str] = []
        self._sock = socket.socket()
        self._sock.bind((host, 0))
        self._sock.listen(16)
        self._sock.settimeout(0.05)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> ConnectProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(5)
        with client:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 8192:
                chunk = client.recv(1024)
                if not chunk:
                    return
                head += chunk
            target = head.split(b"\r\n", 1)[0].split()[1].decode()
            self.tunnels.append(target)
            host, _, port = target.rpartition(":")
            try:
                upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
            except OSError:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
                return
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            with upstream:
                _pipe(client, upstream)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    def copy(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

    other = threading.Thread(target=copy, args=(b, a), daemon=True)
    other.start()
    copy(a, b)
    other.join(5)


@contextmanager
def full_backlog(host: str = "127.0.0.1") -> Iterator[int]:
    """A listener whose accept queue is full: the kernel drops further SYNs, so connects time out."""
    sock = socket.socket()
    sock.bind((host, 0))
    sock.listen(0)
    port = sock.getsockname()[1]
    fillers: list[socket.socket] = []
    try:
        while True:  # fill until a connect no longer completes: the queue is then provably full
            filler = socket.socket()
            filler.settimeout(0.5)
            fillers.append(filler)
            try:
                filler.connect((host, port))
            except TimeoutError:
                break
        yield port
    finally:
        for filler in fillers:
            filler.close()
        sock.close()
