"""Downloading a web page or feed politely and safely: one clear error line for each failure."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from index.errors import NewsbotError
from newsbot.ingest.urls import check_url

USER_AGENT = "newsbot/0.1 (+https://github.com/newsbot)"
DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
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


class FetchError(NewsbotError):
    """A download failed; ``str()`` says why in one line (host, status, type, size, time)."""


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
    ``max_bytes`` (stopping the download as soon as the cap is passed, so a huge response costs
    at most ``max_bytes`` plus one chunk). ``timeout`` bounds the whole download, not just each
    network read. Every failure raises ``FetchError`` with a one-line reason.
    """
    check_url(url)
    accept = tuple(accept)
    owned = client is None
    client = client or make_client(timeout)
    deadline = time.monotonic() + timeout
    try:
        with client.stream("GET", url, timeout=timeout) as response:
            _check_response(response, accept, max_bytes)
            content = _read_capped(response, max_bytes, deadline, timeout)
            return Download(
                url=str(response.url),
                content=content,
                content_type=_media_type(response),
                charset=response.charset_encoding,
            )
    except httpx.HTTPError as exc:
        raise FetchError(_describe_http_error(exc, url, timeout)) from exc
    finally:
        if owned:
            client.close()


def make_client(timeout: float = DEFAULT_TIMEOUT) -> httpx.Client:
    """An httpx client with newsbot's User-Agent, redirects followed and ``timeout`` per step."""
    return httpx.Client(
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
        timeout=timeout,
        max_redirects=10,
    )


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


def _read_capped(
    response: httpx.Response, max_bytes: int, deadline: float, timeout: float
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"too large: more than {_mb(max_bytes)}, download stopped")
        if time.monotonic() > deadline:
            raise FetchError(f"timed out after {timeout:g} s")
        chunks.append(chunk)
    return b"".join(chunks)


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def _describe_http_error(exc: httpx.HTTPError, url: str, timeout: float) -> str:
    host = httpx.URL(url).host or url
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {timeout:g} s waiting for {host}"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot reach {host}: {_first_line(exc) or 'connection failed'}"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "redirected to a non-http(s) URL; refused"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{host} sent a broken HTTP response"
    return f"download failed: {_first_line(exc) or type(exc).__name__}"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    # "[Errno 111] Connection refused" -> "Connection refused"
    return re.sub(r"^\[Errno -?\d+\]\s*", "", text.splitlines()[0]) if text else ""


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
