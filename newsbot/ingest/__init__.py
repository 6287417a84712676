"""Growing the corpus: downloading pages and feeds, extracting articles, writing them safely.

``fetch`` downloads, ``urls`` decides which URLs are acceptable and when two name the same
article, ``extract`` turns pages and files into article text, ``feeds`` reads RSS/Atom and picks
the entries about the story, ``duplicates`` spots republished copies, and ``pipeline`` ties them
together for ``newsbot add``. Data flows one way: this package writes corpus files; ``index``
reads them and never imports from here.
"""
