"""Reply formatting: escaping, the 4096 limit and excerpt trimming (bot/replies.py).

Replies are validated with the fake server's strict Telegram HTML parser.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import replies
from bot.replies import ELLIPSIS, MAX_MESSAGE, trim_excerpt, utf16_len
from bot.translations import translator
from index.search import Hit, Source
from index.store import ArticleInfo
from tests.fake_telegram import parse_html, parse_message_text

NASTY = ["<b>&</i>", "&amp;", "&nbsp;", "<", ">", '"', "'", "🕯️", "❤️", "𝔘", "\n", " ", "…"]
texts = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=40)), max_size=60).map("".join)
long_texts = st.one_of(texts, st.builds(lambda t, n: t * n, texts, st.integers(1, 200)))
urls = st.one_of(
    st.just(""),
    st.just("https://example.org/a?b=1&c=<2>#:~:text=x"),
    st.builds(lambda t: f"https://news.example.com/{t}", texts),
    texts,
)


@st.composite
def hits(draw: st.DrawFn) -> Hit:
    text = draw(long_texts)
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, len(text)))
    sources = st.builds(Source, texts, texts, texts, texts, urls, urls)
    return Hit(
        text=text,
        highlight=text[start:end],
        highlight_start=start,
        highlight_end=end,
        score=1.0,
        confidence=0.5,
        title=draw(long_texts),
        outlet=draw(texts),
        url=draw(urls),
        link=draw(urls),
        published=draw(st.one_of(st.just("2021-02-14"), texts)),
        doc_id="doc",
        paragraph=0,
        part=0,
        section="",
        also=tuple(draw(st.lists(sources, max_size=6))),
    )


def assert_valid(html_text: str) -> str:
    """Accepted by the strict parser as a message, and within Telegram's length limit."""
    visible, _ = parse_message_text(html_text, "HTML")
    assert utf16_len(visible) <= MAX_MESSAGE
    assert replies.telegram_length(html_text) == utf16_len(visible)
    return visible


# ---- properties ---------------------------------------------------------------------------

SLOW = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(st.lists(hits(), min_size=1, max_size=9), st.integers(1, 10), st.data())
def test_every_answer_page_is_valid_telegram_html(hit_list: list[Hit], per_page: int, data) -> None:
    page = data.draw(st.integers(0, replies.page_count(len(hit_list), per_page) - 1))
    assert_valid(replies.answer_page(hit_list, page, per_page))


@SLOW
@given(hits())
def test_inline_quote_is_valid_and_keeps_the_highlight_start(hit: Hit) -> None:
    visible = assert_valid(replies.quote_message(hit))
    words = hit.highlight.split()
    if words and utf16_len(hit.highlight) < 500:
        assert words[0] in visible


@SLOW
@given(long_texts)
def test_questions_are_escaped_where_echoed(question: str) -> None:
    visible = assert_valid(replies.not_found(question))
    shown = replies.clip(question, 80)
    if shown.strip():
        assert shown in visible


articles = st.builds(
    ArticleInfo, long_texts, long_texts, texts, urls, texts, texts, texts, st.integers(0, 99)
)


@SLOW
@given(st.lists(articles, max_size=80), st.lists(texts, max_size=3), texts)
def test_fixed_texts_are_valid(articles: list[ArticleInfo], examples: list[str], name: str) -> None:
    assert_valid(replies.sources_text(articles))
    if articles:
        assert_valid(replies.start_text(articles, examples, name or "bot"))
    assert_valid(replies.help_text(name or "bot", 10, 3))
    assert_valid(replies.usage_text(examples[0] if examples else None))
    assert_valid(replies.unknown_command("/" + name))
    assert_valid(replies.reload_failed(name or "x"))


def test_help_states_the_configured_passage_count() -> None:
    assert "quotes up to 5 passages," in replies.help_text("bot", 10, 5)
    assert "quotes one passage," in replies.help_text("bot", 10, 1)


@given(long_texts, st.integers(1, 600), st.data())
def test_trim_respects_the_limit_and_keeps_the_highlight(text: str, limit: int, data) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    before, mark, after = trim_excerpt(text, start, end, limit)
    highlight = text[start:end]
    assert utf16_len(before + mark + after) <= max(limit, 0)
    assert highlight.startswith(mark.removesuffix(ELLIPSIS).rstrip())
    if utf16_len(highlight) + 2 <= limit:
        assert mark == highlight
    assert text[:start].endswith(before.removeprefix(ELLIPSIS))
    assert text[end:].startswith(after.removesuffix(ELLIPSIS))


@given(texts)
def test_telegram_length_agrees_with_the_strict_parser(text: str) -> None:
    html_text = f'<b>{replies.escape(text)}</b> <a href="{replies.escape(text)}">x</a>'
    assert replies.telegram_length(html_text) == utf16_len(parse_html(html_text)[0].strip())


# ---- trimming examples --------------------------------------------------------------------


def test_short_text_is_untouched() -> None:
    assert trim_excerpt("One. Two. Three.", 5, 9, 100) == ("One. ", "Two.", " Three.")


def test_long_text_is_cut_on_both_sides_at_word_boundaries() -> None:
    before = "alpha beta gamma delta epsilon zeta eta theta. "
    mark = "The important sentence."
    after = " iota kappa lambda mu nu xi omicron pi rho sigma."
    text = before + mark + after
    cut_before, cut_mark, cut_after = trim_excerpt(text, len(before), len(before) + len(mark), 60)
    assert cut_mark == mark
    assert cut_before.startswith(ELLIPSIS) and cut_after.endswith(ELLIPSIS)
    assert utf16_len(cut_before + cut_mark + cut_after) <= 60
    assert cut_before.removeprefix(ELLIPSIS).split()[0] in before.split()  # whole words
    assert cut_after.removesuffix(ELLIPSIS).split()[-1] in after.split()


def test_context_unused_by_one_side_goes_to_the_other() -> None:
    mark = "Start here."
    after = " " + "word " * 40
    before, cut_mark, cut_after = trim_excerpt(mark + after, 0, len(mark), 80)
    assert before == "" and cut_mark == mark
    assert utf16_len(cut_mark + cut_after) > 70


def test_a_highlight_longer_than_the_limit_keeps_its_beginning() -> None:
    text = "Intro. " + "very " * 50 + "long."
    before, mark, after = trim_excerpt(text, 7, len(text), 30)
    assert before == ELLIPSIS and after == ""
    assert mark.startswith("very very") and mark.endswith(ELLIPSIS)
    assert utf16_len(before + mark) <= 30


def test_emoji_count_as_two_units() -> None:
    text = "🕯" * 30
    _, mark, _ = trim_excerpt(text, 0, len(text), 21)
    assert mark == "🕯" * 10 + ELLIPSIS
    assert utf16_len(mark) == 21


def test_no_cut_inside_an_entity_or_a_tag() -> None:
    text = "&amp; <b>" * 100
    hit = Hit(text, text[:9], 0, 9, 1.0, 1.0, "T", "O", "", "", "", "d", 0, 0, "")
    page = replies.answer_page([hit] * 9, 0, 9)
    assert_valid(page)
    assert "&amp;amp;" in page and "&lt;b&gt;" in page


def test_also_reported_by_lists_other_outlets_with_links() -> None:
    others = tuple(
        Source(f"d{n}", "T", f"Outlet {n}", "2021-02-15", "", f"https://o{n}.example.org/a")
        for n in range(5)
    )
    main = "https://m.example.org/x"
    link = f"{main}#:~:text=Quote."
    hit = Hit(
        "Quote.",
        "Quote.",
        0,
        6,
        1,
        1,
        "Title",
        "Main",
        main,
        link,
        "2021-02-14",
        "d",
        0,
        0,
        "",
        others,
    )
    visible = assert_valid(replies.answer_page([hit], 0, 3))
    assert "Also reported by Outlet 0 (15 Feb 2021), Outlet 1 (15 Feb 2021)" in visible
    assert "and 2 more" in visible
    _, entities = parse_html(replies.answer_page([hit], 0, 3))
    urls = [e["url"] for e in entities if e["type"] == "text_link"]
    assert urls[0] == "https://m.example.org/x#:~:text=Quote."
    assert "https://o0.example.org/a" in urls


def test_links_only_to_web_addresses() -> None:
    assert replies.is_web_url("https://example.org/x")
    assert not replies.is_web_url("javascript:alert(1)")
    assert not replies.is_web_url("https://localhost/x")
    assert not replies.is_web_url("")


@given(st.lists(hits(), min_size=1, max_size=4), st.sampled_from(["en", "ru", "uk", "de", "fr"]))
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_related_answers_say_so_first_and_bold_nothing(hit_list: list[Hit], language: str) -> None:
    t = translator(language)
    html_text = replies.answer_page(hit_list, 0, 4, t, related=True)
    visible = assert_valid(html_text)
    assert visible.startswith(t.gettext(replies.RELATED))
    _, entities = parse_html(html_text)
    assert not [e for e in entities if e["type"] == "bold"]
