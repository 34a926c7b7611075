"""Real local receivers for the sink tests: an HTTP server and an SMTP server on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class HttpReceiver:
    """Records every POST; answers with the next status of ``statuses`` (the last one repeats)."""

    url: str
    statuses: list[int]
    requests: list[Request] = field(default_factory=list)

    def accepted(self, path: str | None = None) -> list[Request]:
        return [r for r in self.requests if 200 <= r.status < 300 and (path is None or r.path == path)]


@contextmanager
def http_receiver(statuses: list[int] | None = None) -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(url="", statuses=list(statuses or [200]))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                receiver.requests.append(Request(self.path, dict(self.headers.items()), body, status))
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"server error")

        def log_message(self, *args: object) -> None:  # keep test output quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class SmtpReceiver:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_receiver(user: str | None = None, password: str | None = None) -> Iterator[SmtpReceiver]:
    """aiosmtpd on loopback; with ``user``/``password`` it requires AUTH (over plain TCP, for the test)."""
    receiver = SmtpReceiver("127.0.0.1", 0)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            receiver.messages.append(message_from_bytes(envelope.original_content or envelope.content))
            receiver.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            return "250 Message accepted for delivery"

    def authenticator(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            login = (auth_data.login.decode(), auth_data.password.decode())
            receiver.logins.append(login)
            return AuthResult(success=login == (user, password))
        return AuthResult(success=False)

    kwargs = {}
    if user is not None:
        kwargs = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}
    receiver.port = _free_port()  # aiosmtpd's Controller connects to its own port to check it started: no port 0
    controller = Controller(Handler(), hostname="127.0.0.1", port=receiver.port, **kwargs)
    controller.start()
    try:
        yield receiver
    finally:
        controller.stop()
