"""Article URLs: which ones we accept, and when two of them name the same article."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from courlan import normalize_url

from index.errors import NewsbotError

ALLOWED_SCHEMES = ("http", "https")
# Browsers and servers give up on URLs well before this; longer ones are junk or an attack.
MAX_URL_LENGTH = 8192


class UrlError(NewsbotError):
    """A URL that newsbot will not download (not http/https, or not a URL at all)."""


def check_url(url: str) -> str:
    """Return ``url`` stripped if it is an absolute http(s) URL with a host; raise ``UrlError``.

    ``file:``, ``ftp:``, ``data:`` and every other scheme are refused: the operator adds
    web pages by URL and local files by path, never local files through a URL. So are URLs
    longer than ``MAX_URL_LENGTH`` and ones that cannot be parsed (``http://[::1``).
    """
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise UrlError(
            f"the URL is too long ({len(url):,} characters; the limit is {MAX_URL_LENGTH:,})"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # parsed lazily; raises for a port that is not a number
    except ValueError as exc:
        raise UrlError(f"not a valid URL ({exc})") from exc
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        shown = f"'{parts.scheme}:' URLs" if parts.scheme else "a URL without http:// or https://"
        raise UrlError(f"refused {shown}; only http and https pages can be added")
    if not host:
        raise UrlError("the URL has no host name")
    return url


def clean_url(url: str) -> str:
    """The URL to store for an article: tracking parameters (utm_*, fbclid, ...) and the
    fragment removed, host lower-cased, default port dropped, query parameters sorted."""
    normalized = normalize_url(url.strip())
    parts = urlsplit(normalized)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def url_key(url: str) -> str:
    """Identity of an article URL: two URLs with the same key are the same article.

    Beyond ``clean_url`` this ignores differences that never name a different article
    in practice: http vs https, a leading ``www.``, and a trailing slash.
    """
    if not url.strip():
        return ""
    parts = urlsplit(clean_url(url))
    host = parts.netloc.removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    return f"{host}{path}" + (f"?{parts.query}" if parts.query else "")
