"""Answering a question with ranked, quotable passages, or honestly abstaining.

Candidates come from the dense index (FAISS) and from BM25; each candidate is then scored four
ways (dense cosine, BM25, character n-grams, word-piece MaxSim), the scores are standardised
over the candidates and fused with weights chosen on the question set (docs/retrieval.md).
Whether to answer at all is decided on absolute similarity, not on the fused rank, because a
best passage is always found, even for a question the coverage says nothing about.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from index.crosslingual import CrosslingualSearch
from index.embed import Embedder, Encoded
from index.errors import QuestionError
from index.highlight import text_fragment_link
from index.language import ENGLISH, question_language, romanise
from index.lexical import top_rows
from index.matching import TokenMatcher
from index.passages import Passage
from index.store import IndexData
from index.story_prior import StoryOptions, StoryPrior
from index.verdict import SentenceTokens, Verdict, judge


@dataclass(frozen=True)
class Weights:
    """Fusion weights of the standardised scores."""

    dense: float = 0.25
    bm25: float = 0.25
    chars: float = 1.0
    tokens: float = 3.0


@dataclass(frozen=True)
class CrosslingualWeights:
    """Fusion weights for a question not in English (docs/retrieval.md): the multilingual
    passage and best-sentence cosines, and today's signals on the (romanised) question."""

    passage: float = 0.5
    sentence: float = 0.5
    focus_passage: float = 1.0
    focus_sentence: float = 1.0
    dense: float = 0.0
    bm25: float = 0.0
    chars: float = 0.0
    tokens: float = 0.0


@dataclass(frozen=True)
class SearchOptions:
    """How to search.

    ``threshold``: the confidence below which the question is not answered at all;
    ``extra_margin``: how far below the best passage's confidence another may be and still be
    quoted; ``duplicate_similarity``: the cosine at which passages of two articles count as the
    same quote. ``crosslingual_threshold`` is the abstention bar of a question not in English,
    on the multilingual confidence (its own scale).
    """

    k: int = 3
    candidates: int = 50
    threshold: float = 0.265
    weights: Weights = field(default_factory=Weights)
    max_question_chars: int = 1000
    duplicate_similarity: float = 0.92
    extra_margin: float = 0.06
    crosslingual_threshold: float = 0.15
    crosslingual_weights: CrosslingualWeights = field(default_factory=CrosslingualWeights)
    story: StoryOptions = field(default_factory=StoryOptions)


@dataclass(frozen=True)
class Source:
    """An article that carries a quote."""

    doc_id: str
    title: str
    outlet: str
    published: str
    url: str
    link: str


@dataclass(frozen=True)
class Hit:
    """One quotable passage with its best sentence and its source.

    ``highlight_start``/``highlight_end`` locate ``highlight`` in ``text``; ``also`` lists other
    articles that carry a near-identical passage.
    """

    text: str
    highlight: str
    highlight_start: int
    highlight_end: int
    score: float
    confidence: float
    title: str
    outlet: str
    url: str
    link: str
    published: str
    doc_id: str
    paragraph: int
    part: int
    section: str
    also: tuple[Source, ...] = ()

    def to_dict(self) -> dict:
        data = asdict(self)
        data["also"] = [asdict(s) for s in self.also]
        return data


@dataclass(frozen=True)
class Answer:
    """The result of a question: ``answered`` is False (and ``passages`` empty) to abstain.

    ``verdict`` is ``answer`` when the best passage's highlighted sentence states what was
    asked, ``related`` when the passages are about the question's subject but do not state it,
    and ``none`` when nothing is answered.
    """

    question: str
    answered: bool
    passages: tuple[Hit, ...]
    confidence: float
    verdict: Verdict = "none"

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answered": self.answered,
            "verdict": self.verdict,
            "confidence": round(self.confidence, 4),
            "passages": [h.to_dict() for h in self.passages],
        }


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


def clean_question(question: str, limit: int = 1000) -> str:
    """The question as it will be searched: control characters dropped, spaces folded,
    at most ``limit`` characters. Raises ``QuestionError`` when nothing is left."""
    text = unicodedata.normalize("NFC", question)
    text = " ".join(_CONTROL.sub(" ", text).split())
    if not text:
        raise QuestionError("the question is empty: type a question about the story")
    return text[:limit].rstrip()


class Searcher:
    """Answers questions from one loaded build. Safe to share; ``encode`` is serialised."""

    def __init__(self, data: IndexData, embedder: Embedder, options: SearchOptions) -> None:
        self.data = data
        self.options = options
        self._embedder = embedder
        self._lexical = data.lexical
        self._dense = data.dense
        self._scripts = frozenset(data.manifest.get("scripts", ()))
        self._matcher = TokenMatcher(
            data.tokens,
            data.token_scales,
            data.token_offsets,
            data.passages.token_spans,
            data.token_idf,
            len(data.passages),
            embedder.unweighted_ids,
        )
        # Cross-lingual channel (index/crosslingual.py); None for a build made without it.
        self._crosslingual = (
            CrosslingualSearch(data.crosslingual, embedder.multilingual)
            if data.crosslingual is not None
            else None
        )
        self._story = StoryPrior(data, embedder, options.story)

    def ask(self, question: str, k: int | None = None) -> Answer:
        """Answer one question with up to ``k`` passages (``options.k`` by default)."""
        return self.ask_many([question], k)[0]

    def ask_many(
        self, questions: Sequence[str], k: int | Sequence[int] | None = None
    ) -> list[Answer]:
        """Answer several questions, encoding them together in one model call.

        ``k`` is one passage count for all, or one per question. Raises ``QuestionError`` if
        any question is empty after cleaning.
        """
        counts = [k] * len(questions) if k is None or isinstance(k, int) else list(k)
        cleaned = [clean_question(q, self.options.max_question_chars) for q in questions]
        foreign = self._foreign(cleaned)
        # Today's candidates and signals see a Cyrillic question in Latin letters: names match.
        encoded = self._embedder.encode_tokens(
            [romanise(q) if f else q for q, f in zip(cleaned, foreign, strict=True)]
        )
        multilingual = self._multilingual_vectors(cleaned, foreign)
        return [
            self._answer(q, e, n or self.options.k)
            if m is None
            else self._answer_crosslingual(q, e, m, n or self.options.k)
            for q, e, m, n in zip(cleaned, encoded, multilingual, counts, strict=True)
        ]

    def _foreign(self, questions: Sequence[str]) -> list[bool]:
        """Which questions take the cross-lingual path: not English, and the build has it."""
        if self._crosslingual is None:
            return [False] * len(questions)
        return [question_language(q) != ENGLISH for q in questions]

    def _multilingual_vectors(
        self, questions: Sequence[str], foreign: Sequence[bool]
    ) -> list[np.ndarray | None]:
        chosen = [q for q, f in zip(questions, foreign, strict=True) if f]
        if not chosen or self._crosslingual is None:
            return [None] * len(questions)
        vectors = iter(self._crosslingual.encode(chosen))
        return [next(vectors) if f else None for f in foreign]

    def crosslingual_signals(
        self,
        question: str,
        encoded: Encoded,
        vector: np.ndarray,
        rows: list[int] | None = None,
        bm25: np.ndarray | None = None,
    ) -> tuple[list[int], dict[str, np.ndarray], np.ndarray]:
        """Candidate rows of a question not in English (``rows`` when given) and each signal
        over them: the multilingual ``passage`` and best-``sentence`` cosines, the same for the
        question without the names all candidates share (``focus_*``), and today's four on
        the romanised question. Also returns the focused question's vector."""
        assert self._crosslingual is not None
        latin = romanise(question)
        bm25 = self._lexical.bm25(latin) if bm25 is None else bm25
        if rows is None:
            rows = self._crosslingual_candidates(encoded, vector, bm25)
        weights = self._matcher.weights(encoded.token_ids)
        texts = [self.data.passages.text(r) for r in rows]
        signals, focus = self._crosslingual.signals(question, vector, rows, texts)
        signals |= {
            "dense": self._dense.scores(encoded.vector, rows),
            "bm25": bm25[rows],
            "chars": self._lexical.chars(latin, rows),
            "tokens": self._matcher.scores(encoded.tokens, weights, rows),
        }
        return rows, signals, focus

    def _crosslingual_candidates(
        self, encoded: Encoded, vector: np.ndarray, bm25: np.ndarray
    ) -> list[int]:
        """Today's candidates of the romanised question, its nearest passages in the
        multilingual space, and (where the story is a minority of the corpus) the story's
        nearest there."""
        assert self._crosslingual is not None
        count = self.options.candidates
        multilingual = self._crosslingual.vectors.passages
        return sorted(
            set(self._candidates(encoded.vector, bm25))
            | {int(r) for r in self._crosslingual.candidates(vector, count)}
            | set(self._story.candidates(vector, count, multilingual))
        )

    def _answer_crosslingual(
        self, question: str, encoded: Encoded, vector: np.ndarray, k: int
    ) -> Answer:
        """A question not in English: candidates and scores from the multilingual channel
        fused with today's signals; abstention on the multilingual similarity alone, since
        word and character matches mean little across languages. The story prior applies as
        to an English question, on the multilingual similarity. The verdict is ``answer``
        whenever it is answered: index/verdict.py reads English answer types only."""
        assert self._crosslingual is not None
        if not self.data.passages:
            return Answer(question, False, (), 0.0)
        bm25 = self._lexical.bm25(romanise(question))
        rows = self._crosslingual_candidates(encoded, vector, bm25)
        # Passages off the story must be closer to the question to count, and the answer
        # comes from the story unless other prose is closer (index/story_prior.py).
        off_story = self._story.discount(rows)
        similarity = (
            self._crosslingual.passage_scores(vector, rows)
            + self._crosslingual.best_sentence_scores(vector, rows)
        ) / 2 - off_story
        overall = float(similarity.max())
        if overall < self.options.crosslingual_threshold:
            return Answer(question, False, (), overall)
        keep = self._story.focus(rows, similarity)
        rows, signals, focus = self.crosslingual_signals(
            question, encoded, vector, [rows[i] for i in keep], bm25
        )
        confidence = (signals["passage"] + signals["sentence"]) / 2 - off_story[keep]
        w = asdict(self.options.crosslingual_weights)
        fused = sum(w[name] * _standardise(values) for name, values in signals.items())
        order = np.argsort(-fused, kind="stable")
        bar = max(
            self.options.crosslingual_threshold, confidence[order[0]] - self.options.extra_margin
        )
        chosen: list[tuple[int, Hit]] = []
        for rank, i in enumerate(order):
            if len(chosen) >= k:
                break
            if rank and confidence[i] < bar:
                continue
            by_sentence = w["sentence"] * self._crosslingual.sentence_scores(vector, rows[i]) + w[
                "focus_sentence"
            ] * self._crosslingual.sentence_scores(focus, rows[i])
            passage = self.data.passages[rows[i]].passage
            hit = self._hit(passage, float(fused[i]), float(confidence[i]), by_sentence)
            if not self._merge_duplicate(chosen, hit, rows[i]):
                chosen.append((rows[i], hit))
        return Answer(question, True, tuple(hit for _, hit in chosen), overall, "answer")

    def _answer(self, question: str, encoded: Encoded, k: int) -> Answer:
        if not self.data.passages or not self._readable(question):
            return Answer(question, False, (), 0.0)
        bm25 = self._lexical.bm25(question)
        rows = self._candidates(encoded.vector, bm25)
        rows = sorted({*rows, *self._story.candidates(encoded.vector, self.options.candidates)})
        weights = self._matcher.weights(encoded.token_ids)
        dense = self._dense.scores(encoded.vector, rows)
        match = self._matcher.match(encoded.tokens, weights, rows)
        tokens = match.scores
        # Passages off the story must be closer to the question to count (index/story_prior.py).
        off_story = self._story.discount(rows)
        # Whether to answer looks at the best dense and best word-piece similarity among the
        # story's passages: on the question set this separates off-topic questions better than
        # the top passage. Other prose must be close on both at once (index/story_prior.py).
        overall = self._story.overall(rows, dense, tokens)
        if overall < self.options.threshold:
            return Answer(question, False, (), overall)
        # The answer comes from the story unless other prose is closer (index/story_prior.py).
        keep = self._story.focus(rows, (dense + tokens) / 2 - off_story)
        rows, dense, tokens = [rows[i] for i in keep], dense[keep], tokens[keep]
        fused = self._fuse(question, rows, dense, bm25[rows], tokens)
        confidence = (dense + tokens) / 2 - off_story[keep]
        order = np.argsort(-fused, kind="stable")
        # Further passages must be nearly as close to the question as the best one: on the
        # question sets, those further below were almost never about what was asked.
        bar = max(self.options.threshold, confidence[order[0]] - self.options.extra_margin)
        chosen: list[tuple[int, Hit]] = []
        for rank, i in enumerate(order):
            if len(chosen) >= k:
                break
            if rank and confidence[i] < bar:
                continue  # the best passage is always quoted; the others must clear the bar
            passage = self.data.passages[rows[i]].passage
            by_sentence = match.sentence_scores(rows[i], passage.sentences)
            hit = self._hit(passage, float(fused[i]), float(confidence[i]), by_sentence)
            if not self._merge_duplicate(chosen, hit, rows[i]):
                chosen.append((rows[i], hit))
        best_row, best = chosen[0]
        verdict = self._verdict(question, encoded, best_row, best)
        return Answer(question, True, tuple(hit for _, hit in chosen), overall, verdict)

    def _verdict(self, question: str, encoded: Encoded, row: int, hit: Hit) -> Verdict:
        """Whether ``hit``'s highlighted sentence states what ``question`` asks."""
        sims, spans = self._matcher.span_sims(
            encoded.tokens, row, hit.highlight_start, hit.highlight_end
        )
        question_spans = np.asarray(encoded.offsets, dtype=np.int32).reshape(-1, 2)
        tokens = SentenceTokens(hit.highlight, sims, question_spans, spans)
        return judge(question, tokens, _names(f"{hit.title}. {hit.text}"))

    def _readable(self, question: str) -> bool:
        """Whether most of the question's letters are in a script the coverage is written in.

        The model splits text in other scripts into single characters whose similarities mean
        nothing, so such a question is abstained rather than answered at random.
        """
        letters = [c for c in question if c.isalpha()]
        if not letters:
            return True
        known = sum(_script(c) in self._scripts for c in letters)
        return known * 2 >= len(letters)

    def _candidates(self, vector: np.ndarray, bm25: np.ndarray) -> list[int]:
        total = len(self.data.passages)
        if total <= self.options.candidates:
            return list(range(total))
        dense_rows = self._dense.search(vector, self.options.candidates)
        # Only passages that share a word: zero-score rows would be arbitrary candidates.
        lexical_rows = top_rows(bm25, self.options.candidates)
        return sorted({int(r) for r in dense_rows} | {int(r) for r in lexical_rows})

    def _fuse(
        self,
        question: str,
        rows: list[int],
        dense: np.ndarray,
        bm25: np.ndarray,
        tokens: np.ndarray,
    ) -> np.ndarray:
        w = self.options.weights
        chars = self._lexical.chars(question, rows)
        return (
            w.dense * _standardise(dense)
            + w.bm25 * _standardise(bm25)
            + w.chars * _standardise(chars)
            + w.tokens * _standardise(tokens)
        )

    def _hit(
        self, passage: Passage, score: float, confidence: float, by_sentence: np.ndarray
    ) -> Hit:
        """``passage`` quoted with its best sentence by ``by_sentence`` highlighted."""
        article = self.data.articles[passage.doc_id]
        best = int(np.argmax(by_sentence)) if len(by_sentence) else 0
        start, end = passage.sentences[best] if passage.sentences else (0, len(passage.text))
        sentence = passage.text[start:end]
        return Hit(
            text=passage.text,
            highlight=sentence,
            highlight_start=start,
            highlight_end=end,
            score=round(score, 4),
            confidence=round(confidence, 4),
            title=article.title,
            outlet=article.outlet,
            url=article.url,
            link=text_fragment_link(article.url, sentence),
            published=article.published,
            doc_id=passage.doc_id,
            paragraph=passage.paragraph,
            part=passage.part,
            section=passage.section,
        )

    def _merge_duplicate(self, chosen: list[tuple[int, Hit]], hit: Hit, row: int) -> bool:
        """Fold ``hit`` into an earlier hit from another article that carries the same text."""
        for n, (earlier_row, earlier) in enumerate(chosen):
            if earlier.doc_id == hit.doc_id:
                continue
            similarity = self._dense.similarity(earlier_row, row)
            if similarity >= self.options.duplicate_similarity:
                source = Source(hit.doc_id, hit.title, hit.outlet, hit.published, hit.url, hit.link)
                chosen[n] = (earlier_row, replace(earlier, also=(*earlier.also, source)))
                return True
        return False


def _names(text: str) -> frozenset[str]:
    """Lower-cased capitalised words of ``text`` that do not open a sentence: the story's names."""
    names = set()
    for match in re.finditer(r"(?<![.!?“\"]\s)(?<!^)\b([A-Z][\w’'-]+)", text):
        names.add(match.group(1).lower().replace("’", "'").removesuffix("'s"))
    return frozenset(names)


@functools.lru_cache(maxsize=4096)
def _script(char: str) -> str:
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


def scripts_of(characters: set[str]) -> list[str]:
    """The writing systems (Unicode script names, as ``_readable`` compares) of the letters in
    ``characters``; the build stores them for the coverage."""
    return sorted({_script(c) for c in characters if c.isalpha()})


def _standardise(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    if spread < 1e-9:
        return np.zeros_like(values, dtype=np.float32)
    return ((values - values.mean()) / spread).astype(np.float32)
