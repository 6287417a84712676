"""Deep links that open an article at the quoted sentence (URL text fragments)."""

from __future__ import annotations

from urllib.parse import quote

_SHORT_WORDS = 8
_EDGE_WORDS = 4


def text_fragment_link(url: str, sentence: str) -> str:
    """``url`` with a ``#:~:text=`` fragment that scrolls to and marks ``sentence``.

    Long sentences are addressed by their first and last few words (``text=start,end``), which
    browsers match across the whole sentence. Returns ``""`` when there is no URL.
    """
    if not url:
        return ""
    base = url.split("#", 1)[0]
    words = sentence.split()
    if not words:
        return base
    if len(words) <= _SHORT_WORDS:
        directive = _encode(" ".join(words))
    else:
        start = " ".join(words[:_EDGE_WORDS])
        end = " ".join(words[-_EDGE_WORDS:])
        directive = f"{_encode(start)},{_encode(end)}"
    return f"{base}#:~:text={directive}"


def _encode(text: str) -> str:
    # '-', ',' and '&' have meaning inside a text directive, so they are escaped too.
    return quote(text, safe="").replace("-", "%2D")
