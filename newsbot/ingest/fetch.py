"""Downloading a web page or feed politely and safely: one clear error line for each failure.

Two limits hold however the server behaves. Size: the body is decompressed here, chunk by chunk
with a bounded output per step, so a small compressed body that expands to gigabytes (even in
layers, ``Content-Encoding: gzip, gzip``) is stopped at the cap having used about one chunk of
memory per layer. Time: a watchdog shuts the connection down when the whole download, headers
included, has taken longer than the timeout, so a server that sends one byte a second cannot keep
a download going.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import httpx

from index.errors import NewsbotError
from newsbot.ingest.limits import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT
from newsbot.ingest.urls import check_url

USER_AGENT = "newsbot/0.1 (+https://github.com/newsbot)"
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    # Many servers send feeds as these; feedparser decides whether it is really a feed.
    "application/octet-stream",
    "text/plain",
    "text/html",
)
_CHUNK = 64 * 1024
# Content-Encoding names and the zlib window bits that read them; others are refused.
_ENCODINGS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class FetchError(NewsbotError):
    """A download failed; ``str()`` says why in one line (host, status, type, size, time)."""


class _TooSlow(Exception):
    """The download's deadline passed (turned into a ``FetchError`` by ``fetch``)."""


@dataclass(frozen=True)
class Download:
    """The body of a successful download and where it finally came from (after redirects)."""

    url: str
    content: bytes
    content_type: str
    charset: str | None

    def html(self) -> str | bytes:
        """The body decoded with the charset the server declared (as browsers do), or the raw
        bytes when it declared none or a wrong one, for the HTML parser to detect."""
        if not self.charset:
            return self.content
        try:
            return self.content.decode(self.charset)
        except (LookupError, UnicodeDecodeError):
            return self.content


def fetch(
    url: str,
    *,
    accept: Iterable[str] = HTML_TYPES,
    client: httpx.Client | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Download:
    """Download ``url`` (http/https only), following redirects.

    Refuses other schemes, responses whose content type is not in ``accept``, and bodies over
    ``max_bytes`` once decompressed (stopping as soon as the cap is passed, so a huge or
    hugely-expanding response costs at most ``max_bytes`` plus a chunk). ``timeout`` bounds the
    whole download, redirects included, not just each network read. Every failure raises
    ``FetchError`` with a one-line reason.
    """
    check_url(url)
    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FetchError(f"not a valid URL ({_first_line(exc)})") from exc
    accept = tuple(accept)
    owned = client is None
    client = client or make_client(timeout)
    watchdog = _Watchdog(timeout)
    answered = False
    try:
        with client.stream("GET", url, timeout=timeout, extensions=watchdog.extensions) as response:
            answered = True
            _check_response(response, accept, max_bytes)
            content = _read_capped(response, max_bytes, watchdog)
            return Download(
                url=str(response.url),
                content=content,
                content_type=_media_type(response),
                charset=response.charset_encoding,
            )
    except (httpx.HTTPError, _TooSlow) as exc:
        if watchdog.fired or isinstance(exc, httpx.TimeoutException | _TooSlow):
            raise FetchError(_too_slow(url, timeout, answered)) from exc
        raise FetchError(_describe_http_error(exc, url)) from exc
    except httpx.InvalidURL as exc:  # a redirect to a URL httpx cannot even parse
        raise FetchError("redirected to something that is not an http(s) URL; refused") from exc
    finally:
        watchdog.stop()
        if owned:
            client.close()


def make_client(timeout: float = DEFAULT_TIMEOUT) -> httpx.Client:
    """An httpx client with newsbot's User-Agent, redirects followed and ``timeout`` per step.

    Connections are not kept alive: each download opens its own, which ``fetch``'s deadline
    can then shut down at any point, even while the response headers are still arriving.
    """
    return httpx.Client(
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": ", ".join(_ENCODINGS)},
        follow_redirects=True,
        timeout=timeout,
        max_redirects=10,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


class _Watchdog:
    """Shuts down every connection a download opened once ``timeout`` seconds have passed.

    httpx's timeouts bound each network read, so a server that keeps sending a byte now and
    then would never trip them; the connections are found through httpx's trace extension.
    """

    def __init__(self, timeout: float) -> None:
        self.deadline = time.monotonic() + timeout
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(timeout, self._fire)
        self._timer.daemon = True
        self._timer.start()
        self.extensions = {"trace": self._trace}

    def expired(self) -> bool:
        return self.fired or time.monotonic() > self.deadline

    def stop(self) -> None:
        self._timer.cancel()

    def _trace(self, event: str, info: dict) -> None:
        if event == "connection.connect_tcp.complete":
            sock = info["return_value"].get_extra_info("socket")
            with self._lock:
                self._sockets.append(sock)
                late = self.fired
            if late:
                _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    # shutdown, unlike close, wakes a read blocked on the socket in another thread.
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def _check_response(response: httpx.Response, accept: tuple[str, ...], max_bytes: int) -> None:
    # A redirect may lead to file: or ftp:; httpx refuses those itself, but be explicit.
    check_url(str(response.url))
    if response.status_code >= 400:
        reason = response.reason_phrase or "error"
        raise FetchError(f"the server answered HTTP {response.status_code} {reason}")
    media_type = _media_type(response)
    if media_type not in accept:
        shown = media_type or "no content type"
        raise FetchError(f"not a web page: the server sent {shown}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"too large: {_mb(int(declared))} (the limit is {_mb(max_bytes)})")


def _read_capped(response: httpx.Response, max_bytes: int, watchdog: _Watchdog) -> bytes:
    chunks: list[bytes] = []
    size = 0
    raw = _capped(response.iter_raw(), max_bytes, watchdog)
    for chunk in _decoded(raw, _content_encodings(response)):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"too large: more than {_mb(max_bytes)}, download stopped")
        chunks.append(chunk)
    if watchdog.expired():  # the watchdog may have cut a body that ends where the connection does
        raise _TooSlow
    return b"".join(chunks)


def _capped(chunks: Iterator[bytes], max_bytes: int, watchdog: _Watchdog) -> Iterator[bytes]:
    """The raw body as it arrives, stopped past ``max_bytes`` or the deadline."""
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"too large: more than {_mb(max_bytes)}, download stopped")
        if watchdog.expired():
            raise _TooSlow
        yield chunk


def _content_encodings(response: httpx.Response) -> list[str]:
    header = response.headers.get("content-encoding", "")
    encodings = [e.strip().lower() for e in header.split(",") if e.strip()]
    encodings = [e for e in encodings if e != "identity"]
    unknown = [e for e in encodings if e not in _ENCODINGS]
    if unknown:
        raise FetchError(f"the server sent an unsupported encoding ({', '.join(unknown)})")
    return encodings


def _decoded(chunks: Iterator[bytes], encodings: list[str]) -> Iterator[bytes]:
    """Undo ``encodings`` (in the order applied, as in Content-Encoding), lazily."""
    for encoding in reversed(encodings):
        chunks = _inflate(chunks, _ENCODINGS[encoding])
    return chunks


def _inflate(chunks: Iterator[bytes], wbits: int) -> Iterator[bytes]:
    """Decompress a stream, never producing more than one chunk per step."""
    decoder = zlib.decompressobj(wbits)
    try:
        for chunk in chunks:
            data = chunk
            while data and not decoder.eof:
                output = decoder.decompress(data, _CHUNK)
                if output:
                    yield output
                data = decoder.unconsumed_tail
        rest = decoder.flush()
    except zlib.error as exc:
        raise FetchError(f"the server sent a broken compressed body ({exc})") from exc
    if rest:
        yield rest


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def _too_slow(url: str, timeout: float, answered: bool) -> str:
    if answered:
        return f"too slow: not finished after {timeout:g} s, download stopped"
    return f"timed out after {timeout:g} s waiting for {_host(url)}"


def _describe_http_error(exc: httpx.HTTPError, url: str) -> str:
    host = _host(url)
    if isinstance(exc, httpx.ConnectError):
        return f"cannot reach {host}: {_first_line(exc) or 'connection failed'}"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "redirected to a non-http(s) URL; refused"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{host} sent a broken HTTP response"
    return f"download failed: {_first_line(exc) or type(exc).__name__}"


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host or url
    except httpx.InvalidURL:
        return url


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    # "[Errno 111] Connection refused" -> "Connection refused"
    return re.sub(r"^\[Errno -?\d+\]\s*", "", text.splitlines()[0]) if text else ""


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
