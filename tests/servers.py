"""Real servers for tests, on 127.0.0.1: `chroma run`, and an auth/TLS proxy in front of it.

Chroma 1.x's `chroma run` has no authentication of its own (its Rust frontend accepts every
request), so a deployment that needs a token puts a proxy in front; AuthProxy is that proxy.
"""

from __future__ import annotations

import http.client
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from collections.abc import Iterator


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def chroma_server(data: Path, port: int | None = None) -> Iterator[str]:
    """A real `chroma run` on port (a free one by default); yields its URL and stops it after."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        chroma = Path(shutil.which("chroma") or "chroma")
    port = port or free_port()
    proc = subprocess.Popen([str(chroma), "run", "--path", str(data), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chroma run did not come up (exit {proc.poll()})")
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


class AuthProxy:
    """Forwards to a Chroma server, answering 401 unless the bearer token matches; TLS optional."""

    def __init__(self, upstream: str, token: str, cert: tuple[Path, Path] | None = None, *,
                 everywhere: bool = False, page: bytes = b"") -> None:
        """everywhere: the heartbeat wants the token too; page: the body of a 401."""
        host, port = upstream.removeprefix("http://").split(":")
        self.seen_tokens: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                got = self.headers.get("Authorization", "")
                proxy.seen_tokens.append(got)
                open_path = self.path == "/api/v2/heartbeat" and not everywhere
                if not open_path and got != f"Bearer {token}":
                    self.send_response(401)
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                conn.request(self.command, self.path, body,
                             {"Content-Type": self.headers.get("Content-Type", "application/json")})
                res = conn.getresponse()
                data = res.read()
                self.send_response(res.status)
                self.send_header("Content-Type", res.getheader("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*map(str, cert))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://localhost:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and its key, made with openssl; the cert is its own CA."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key
