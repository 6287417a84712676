"""A local news site for the ingest tests: the pages under tests/data/site plus awkward responses.

Pages are served with ``http://site.test`` replaced by the server's real address, so canonical
links in them point back at this server. Besides the files there are routes that misbehave on
purpose: a 20 MB page streamed without a length, one that declares 20 MB, a slow page, a PDF,
JSON, and redirects to other pages and to a ``file:`` URL. Pages under ru/ are sent in
windows-1251, declared in the Content-Type header only.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SITE_DIR = Path(__file__).parent / "data" / "site"
PLACEHOLDER = "http://site.test"
HUGE_SIZE = 20 * 1024 * 1024
CHUNK = 64 * 1024
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".xml": "application/rss+xml"}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients hang up on purpose here (size cap, timeout); a traceback on stderr would
        # only land in the output of whatever test runs at that moment.
        pass


class SiteServer:
    """Serves the test site on 127.0.0.1 at an ephemeral port, in a background thread."""

    def __init__(self, root: Path = SITE_DIR) -> None:
        self.root = root
        self.huge_sent = 0
        self.huge_done = threading.Event()
        self.requests: list[str] = []
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def start(self) -> SiteServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                route = ROUTES.get(self.path.split("?")[0])
                if route:
                    route(self, site)
                else:
                    serve_file(self, site)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def closed_port_url() -> str:
    """A URL on 127.0.0.1 at a port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/article.html"


def serve_file(handler: BaseHTTPRequestHandler, site: SiteServer) -> None:
    relative = handler.path.split("?")[0].lstrip("/")
    path = (site.root / relative).resolve()
    if not path.is_relative_to(site.root.resolve()) or not path.is_file():
        send(handler, 404, "text/html", b"<html><body><h1>Page not found</h1></body></html>")
        return
    text = path.read_text(encoding="utf-8").replace(PLACEHOLDER, site.base)
    content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
    if relative.startswith("ru/"):
        # Russian pages in the old Windows encoding, declared only in the HTTP header.
        send(handler, 200, "text/html; charset=windows-1251", text.encode("cp1251"))
        return
    send(handler, 200, content_type, text.encode("utf-8"))


def send(handler: BaseHTTPRequestHandler, status: int, content_type: str, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def huge(handler: BaseHTTPRequestHandler, site: SiteServer, *, declare: bool = False) -> None:
    """20 MB of HTML, written in chunks; records how much went out before the client hung up."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    if declare:
        handler.send_header("Content-Length", str(HUGE_SIZE))
    handler.end_headers()
    chunk = b"<p>" + b"candle " * ((CHUNK - 7) // 7) + b"</p>\n"
    site.huge_sent = 0
    try:
        while site.huge_sent < HUGE_SIZE:
            handler.wfile.write(chunk)
            site.huge_sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        site.huge_done.set()


def slow(handler: BaseHTTPRequestHandler, site: SiteServer) -> None:
    time.sleep(3)
    send(handler, 200, "text/html", b"<html><body><p>Too late.</p></body></html>")


def redirect(to: str):
    def route(handler: BaseHTTPRequestHandler, site: SiteServer) -> None:
        handler.send_response(302)
        handler.send_header("Location", to if ":" in to else site.base + to)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return route


ROUTES = {
    "/huge.html": huge,
    "/huge-declared.html": lambda handler, site: huge(handler, site, declare=True),
    "/slow.html": slow,
    "/report.pdf": lambda handler, site: send(
        handler, 200, "application/pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
    ),
    "/api/story.json": lambda handler, site: send(
        handler, 200, "application/json", b'{"title": "Candles for Navalny", "count": 312}'
    ),
    "/go/spb": redirect("/news/2021/02/14/spb-courtyards.html"),
    "/go/file": redirect("file:///etc/passwd"),
}
