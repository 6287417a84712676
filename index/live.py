"""A searcher that follows the live index: when a build is swapped in, the next check loads it.

The embedding model is loaded once and kept; only the index data is reloaded. Loading a build
maps its files rather than reading them, so a reload costs about the same whatever the corpus
size, and while both builds are held (until questions in flight on the old one finish) the
second costs address space and shared page cache, not a second copy in memory; the old build is
unmapped when its searcher is released. A build that cannot be loaded leaves the current
searcher in service.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from index.embed import Embedder
from index.search import Searcher, SearchOptions
from index.store import current_build_id, load_index

log = logging.getLogger(__name__)


class LiveSearcher:
    """Holds the current ``Searcher`` and swaps in a new one when the index changes."""

    def __init__(self, index_dir: Path, embedder: Embedder, options: SearchOptions) -> None:
        self.index_dir = index_dir
        self.embedder = embedder
        self.options = options
        self._lock = threading.Lock()
        self._link = current_build_id(index_dir)
        data = load_index(index_dir, embedder.name, self._link)
        self._searcher = Searcher(data, embedder, options)

    @property
    def searcher(self) -> Searcher:
        """The searcher in service now."""
        return self._searcher

    def changed(self) -> bool:
        """Whether the live build differs from the one being served (a cheap link read)."""
        return current_build_id(self.index_dir) != self._link

    def reload(self, force: bool = False) -> bool:
        """Load the live build if it changed (or ``force``); return whether a new one is served.

        Raises ``IndexNotReady`` when the live build cannot be loaded; the old searcher stays.
        """
        with self._lock:
            link = current_build_id(self.index_dir)
            if link == self._link and not force:
                return False
            data = load_index(self.index_dir, self.embedder.name, link)
            self._searcher = Searcher(data, self.embedder, self.options)
            self._link = link
            log.info("serving index build %s (%d passages)", data.build_id, len(data.passages))
            return True
