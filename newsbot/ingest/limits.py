"""The download stack's default limits, importable without loading it (bot/settings.py uses them).

Each is a setting too; these are the values when nothing is configured.
"""

# Seconds a whole download may take, redirects and headers included (NEWSBOT_DOWNLOAD_TIMEOUT).
DEFAULT_TIMEOUT = 20.0
# Bytes a page or feed may have once decompressed.
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# Entries of one feed downloaded at most, newest first (NEWSBOT_MAX_FEED_ENTRIES): a feed listing
# thousands of entries about the story must not start thousands of downloads.
MAX_FEED_ENTRIES = 50
# Fewest words of paragraph text a page or file needs to count as an article (add --min-words):
# fewer is a video page, a gallery, a section front or an error page, not an article to quote.
MIN_ARTICLE_WORDS = 60
