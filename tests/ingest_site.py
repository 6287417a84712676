"""A local news site for the ingest tests: the pages under tests/data/site plus awkward responses.

Pages are served with ``http://site.test`` replaced by the server's real address, so canonical
links in them point back at this server. Besides the files there are routes that misbehave on
purpose: a 20 MB page streamed without a length, one that declares 20 MB, a slow page, pages
that drip one byte at a time (headers or body), gzip bombs that expand to 1 GiB (in one or two
gzip layers), a PDF, JSON, and redirects to other pages, to a ``file:`` URL and to
``javascript:``. Pages under ru/ are sent in windows-1251, declared in the Content-Type header
only; ``/gzip/...`` serves any page gzip-compressed.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import socket
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SITE_DIR = Path(__file__).parent / "data" / "site"
PLACEHOLDER = "http://site.test"
HUGE_SIZE = 20 * 1024 * 1024
BOMB_SIZE = 1024 * 1024 * 1024
DRIP_SECONDS = 0.2
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
    compress = relative.startswith("gzip/")
    relative = relative.removeprefix("gzip/")
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
    if compress:
        send(handler, 200, content_type, gzip.compress(text.encode("utf-8")), encoding="gzip")
        return
    send(handler, 200, content_type, text.encode("utf-8"))


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    content_type: str,
    body: bytes,
    encoding: str = "",
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    if encoding:
        handler.send_header("Content-Encoding", encoding)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client hung up
        handler.wfile.write(body)


@functools.cache
def gzip_bomb(layers: int) -> bytes:
    """An HTML body of BOMB_SIZE zero bytes, gzip-compressed ``layers`` times (about 1 MB for
    one layer, a few KB for two). The 1 MiB deflate block is repeated rather than compressed
    1,024 times, which would take seconds; the gzip trailer is never reached by a capped
    reader, so its checksum is left zero."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    mebibyte = bytes(1024 * 1024)
    first = compressor.compress(mebibyte) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(mebibyte) + compressor.flush(zlib.Z_FULL_FLUSH)
    last = compressor.flush()
    body = first + block * (BOMB_SIZE // len(mebibyte) - 1) + last[:-8] + bytes(8)
    for _ in range(layers - 1):
        body = gzip.compress(body)
    return body


def bomb(layers: int):
    def route(handler: BaseHTTPRequestHandler, site: SiteServer) -> None:
        encoding = ", ".join(["gzip"] * layers)
        send(handler, 200, "text/html", gzip_bomb(layers), encoding=encoding)

    return route


def drip(handler: BaseHTTPRequestHandler, site: SiteServer, *, headers: bool = False) -> None:
    """An answer sent one byte every DRIP_SECONDS, forever unless the client hangs up: the
    headers too when ``headers``, else a complete header and then the body."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n"
    slow = head + b"<p>" + b"candle " * 20_000 if headers else b"<p>" + b"candle " * 20_000
    if not headers:
        handler.wfile.write(head)
    try:
        for byte in slow:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(DRIP_SECONDS)
    except (BrokenPipeError, ConnectionResetError):
        pass


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


MANY_ENTRIES = 10_000


def many_entries(handler: BaseHTTPRequestHandler, site: SiteServer) -> None:
    """An RSS feed of MANY_ENTRIES entries about the candles, entry n published n minutes after
    midnight, listed oldest first; each links to /many/<n>.html (a 404)."""
    items = "".join(
        f"<item><title>Candles in courtyard {n}</title><link>{site.base}/many/{n}.html</link>"
        f"<pubDate>{_rss_date(n)}</pubDate></item>"
        for n in range(MANY_ENTRIES)
    )
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'
    send(handler, 200, "application/rss+xml", feed.encode("utf-8"))


def _rss_date(minutes: int) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(1613260800 + 60 * minutes))


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
    "/go/javascript": redirect("javascript:alert(1)"),
    "/feeds/many.xml": many_entries,
    "/bomb-gzip.html": bomb(1),
    "/bomb-gzip-gzip.html": bomb(2),
    "/drip.html": drip,
    "/drip-headers.html": lambda handler, site: drip(handler, site, headers=True),
}
