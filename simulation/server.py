"""``FakeApiServer``: one loopback HTTP server hosting every fake source under ``/{source}/...``.

Standard library only (``ThreadingHTTPServer``), HTTP/1.1 keep-alive like the real APIs, so
clients exercise their connection pooling, timeouts and partial-read handling for real.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from simulation.company import Company
from simulation.control import handle_control
from simulation.determinism import fake_sha
from simulation.faults import FaultInjector
from simulation.httpkit import ApiContext, Request, Response, SourceApi
from simulation.pipeline import serve_request
from simulation.ratelimit import QuotaBook
from simulation.sources import default_sources
from simulation.stats import ServerStats

log = logging.getLogger(__name__)


class FakeApiServer:
    def __init__(
        self,
        company: Company,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        sources: list[SourceApi] | None = None,
    ) -> None:
        self.company = company
        self.latency = latency
        self.quotas = QuotaBook()
        self.stats = ServerStats(self.quotas)
        self._sources: dict[str, SourceApi] = {}
        self.faults = FaultInjector(known_kinds=self._fault_kinds)
        for api in sources if sources is not None else default_sources():
            self.register_source(api)
        self._host = host
        self._port = port
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._request_ids = itertools.count(1)

    # -- sources ----------------------------------------------------------------------------------
    def register_source(self, api: SourceApi) -> None:
        if not api.name or "/" in api.name or api.name.startswith("_"):
            raise ValueError(f"invalid source name {api.name!r}")
        self._sources[api.name] = api
        if api.quota_limit is not None:
            self.quotas.configure(api.name, api.quota_limit)

    def source(self, name: str) -> SourceApi | None:
        return self._sources.get(name)

    @property
    def source_names(self) -> list[str]:
        return list(self._sources)

    def _fault_kinds(self, source: str) -> frozenset[str] | None:
        api = self._sources.get(source)
        return None if api is None else api.fault_kinds

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> FakeApiServer:
        if self._httpd is not None:
            return self
        httpd = _HttpServer((self._host, self._port), _Handler)
        httpd.app = self
        self._httpd = httpd
        self._port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_all_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeApiServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None and self._port == 0:
            raise RuntimeError("server not started: the port is chosen by start()")
        return f"http://{self._host}:{self._port}"

    def base_url(self, source: str) -> str:
        return f"{self.url}/{source}"

    def quota_remaining(self, source: str, token: str) -> int:
        return self.quotas.remaining(source, token)

    def next_request_id(self) -> str:
        """GitHub-looking request ids (``XXXX:XXXX:XXXXXX:XXXXXX:XXXXXXXX``), unique per server."""
        digest = fake_sha("request", self._port, next(self._request_ids)).upper()
        return f"{digest[0:4]}:{digest[4:8]}:{digest[8:14]}:{digest[14:20]}:{digest[20:28]}"


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    app: FakeApiServer

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        conn, address = super().get_request()
        with self._connections_lock:
            self._connections.add(conn)
        return conn, address

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_all_connections(self) -> None:
        """Drop keep-alive connections too, so a stopped server looks dead to pooled clients."""
        with self._connections_lock:
            connections = list(self._connections)
            self._connections.clear()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in several writes: avoid 40 ms delayed-ACK stalls
    server: _HttpServer

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def log_message(self, format: str, *args: object) -> None:
        log.debug("fake-api %s - %s", self.address_string(), format % args)

    def _dispatch(self) -> None:
        app = self.server.app
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        split = urlsplit(self.path)
        if split.path.startswith("/_sim/"):
            query = parse_qsl(split.query, keep_blank_values=True)
            sources = {name: app.base_url(name) for name in app.source_names}
            self._write(handle_control(app.company, self.command, split.path, query, sources))
            return
        name, _, rest = split.path.lstrip("/").partition("/")
        api = app.source(name)
        if api is None:
            known = ", ".join(f"/{n}" for n in app.source_names)
            self._write(Response.json(404, {"message": f"no fake source at /{name}; sources: {known}"}))
            return
        request = Request(
            method=self.command,
            source=name,
            path="/" + rest,
            raw_path=self.path,
            query=tuple(parse_qsl(split.query, keep_blank_values=True)),
            headers=self.headers,
            body=body,
        )
        app.stats.record_request(name, self.path)
        fault = app.faults.take(name, self.path)
        if app.latency > 0:
            time.sleep(app.latency)
        host = self.headers.get("Host")
        ctx = ApiContext(
            request=request,
            company=app.company,
            faults=app.faults,
            server_url=f"http://{host}" if host else app.url,
            request_id=app.next_request_id(),
        )
        try:
            response = serve_request(api, ctx, fault, app.quotas)
        except Exception as exc:  # a bug in the fake must surface loudly, not as a hung client
            log.exception("fake %s crashed on %s %s", name, self.command, self.path)
            response = Response.json(500, {"message": f"fake server error: {type(exc).__name__}: {exc}"})
        app.stats.record_status(name, response.status)
        self._write(response)

    def _write(self, response: Response) -> None:
        try:
            self.send_response_only(response.status)
            if response.status != 304:
                if response.content_type:
                    self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD" and response.status != 304 and response.body:
                if response.truncate:
                    self.wfile.write(response.body[: len(response.body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                else:
                    self.wfile.write(response.body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True  # the client gave up (e.g. its timeout fired first)
