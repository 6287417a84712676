"""The `newsbot` command line as an operator meets it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsbot.cli.app import app

COMMANDS = ["build", "ask", "eval", "sources"]
HIT_FIELDS = {
    "text",
    "highlight",
    "score",
    "title",
    "outlet",
    "url",
    "link",
    "published",
    "doc_id",
    "paragraph",
}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_help_everywhere(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output
        sub = runner.invoke(app, [command, "--help"])
        assert sub.exit_code == 0 and "Usage" in sub.output


def test_ask_json(runner: CliRunner, seed_index: Path) -> None:
    result = runner.invoke(
        app, ["ask", "--json", "-k", "2", "--index", str(seed_index), "Who is Leonid Volkov?"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["question"] == "Who is Leonid Volkov?" and payload["answered"] is True
    assert 1 <= len(payload["passages"]) <= 2
    assert set(payload["passages"][0]) >= HIT_FIELDS
    assert "Volkov" in payload["passages"][0]["text"]


def test_ask_readable(runner: CliRunner, seed_index: Path) -> None:
    result = runner.invoke(
        app, ["ask", "--index", str(seed_index), "how long was navalny in a coma"]
    )
    assert result.exit_code == 0
    assert "medically-induced coma" in result.output and "Republic World" in result.output
    off = runner.invoke(app, ["ask", "--index", str(seed_index), "best sourdough recipe"])
    assert off.exit_code == 0 and "couldn't find that in the coverage" in off.output


def test_ask_stream_from_stdin(runner: CliRunner, seed_index: Path) -> None:
    lines = "when was navalny arrested?\n\nwho won the 2018 world cup\n"
    result = runner.invoke(app, ["ask", "--json", "--index", str(seed_index), "-"], input=lines)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["answered"] for r in rows] == [True, False, False]
    assert "empty" in rows[1]["error"]


def test_empty_question_is_a_one_line_error(runner: CliRunner, seed_index: Path) -> None:
    result = runner.invoke(app, ["ask", "--index", str(seed_index), "   "])
    assert result.exit_code == 2
    assert "question is empty" in result.output and "Traceback" not in result.output


def test_sources(runner: CliRunner, seed_index: Path) -> None:
    result = runner.invoke(app, ["sources", "--index", str(seed_index)])
    assert result.exit_code == 0
    assert (
        "2021-02-14" in result.output
        and "Republic World" in result.output
        and "5 passages" in result.output
    )


def _run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "newsbot", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )


def test_missing_index_says_run_build(tmp_path: Path) -> None:
    result = _run("ask", "hello?", env={"NEWSBOT_INDEX_DIR": str(tmp_path / "none")})
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "no index" in result.stderr and "newsbot build" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_is_one_line(tmp_path: Path) -> None:
    result = _run("sources", env={"NEWSBOT_THREADS": "many"})
    assert result.returncode == 2
    assert "NEWSBOT_THREADS" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_build_prints_summary_and_stops_on_bad_article(corpus_copy: Path, tmp_path: Path) -> None:
    env = {"NEWSBOT_INDEX_DIR": str(tmp_path / "index"), "NEWSBOT_CORPUS_DIR": str(corpus_copy)}
    first = _run("build", env=env)
    assert first.returncode == 0, first.stderr
    assert "1 article, 5 passages, 5 embedded now, 0 reused" in first.stdout
    (corpus_copy / "zz-bad.md").write_text("---\nurl: x\n---\n\nNo title here.\n")
    bad = _run("build", env=env)
    assert bad.returncode == 1
    assert "zz-bad.md: front matter has no title" in bad.stderr and "Traceback" not in bad.stderr
    still = _run("sources", env=env)
    assert still.returncode == 0 and "Republic World" in still.stdout


def test_bad_log_level_and_unwritable_index_are_one_line(tmp_path: Path) -> None:
    level = _run("sources", env={"NEWSBOT_LOG_LEVEL": "verbose"})
    assert level.returncode == 2 and "NEWSBOT_LOG_LEVEL" in level.stderr
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    build = _run("build", "--index", str(blocker / "index"))
    assert build.returncode == 1 and "Not a directory" in build.stderr
    for result in (level, build):
        assert "Traceback" not in result.stderr and result.stderr.strip().count("\n") == 0


def test_command_line_values_are_validated(runner: CliRunner, seed_index: Path) -> None:
    result = runner.invoke(app, ["ask", "--index", str(seed_index), "-k", "0", "coma"])
    assert result.exit_code == 2


# --- the operator's side (issue 9) -----------------------------------------------------------

HEAVY_MODULES = ("torch", "sentence_transformers", "trafilatura", "faiss", "sklearn", "httpx")


def _modules_after(args: list[str], env: dict[str, str] | None = None) -> set[str]:
    """The top-level modules a ``newsbot`` command leaves imported, run in a fresh process."""
    script = (
        "import sys\n"
        f"sys.argv = ['newsbot', *{args!r}]\n"
        "from newsbot.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=dict(os.environ, **(env or {})),
        timeout=120,
    )
    return set(result.stdout.splitlines()[-1].split())


def test_help_and_sources_do_not_load_the_model_or_download_stacks(seed_index: Path) -> None:
    for args in (["--help"], ["--version"], ["sources", "--index", str(seed_index)]):
        loaded = _modules_after(args)
        assert not loaded & set(HEAVY_MODULES), (args, loaded & set(HEAVY_MODULES))


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("newsbot ")


def test_output_is_byte_faithful_no_emoji_codes_or_markup(
    runner: CliRunner, seed_index: Path
) -> None:
    question = "what is :x: and :thumbs_up: here [bold]x[/bold]"
    as_json = runner.invoke(app, ["ask", "--json", "--index", str(seed_index), question])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["question"] == question
    text = runner.invoke(app, ["ask", "-", "--index", str(seed_index)], input=question + "\n")
    assert text.exit_code == 0 and f"Q: {question}" in text.output
    assert "❌" not in text.output + as_json.output and "👍" not in text.output + as_json.output


def test_ask_stream_text_echoes_each_question(runner: CliRunner, seed_index: Path) -> None:
    lines = "when was navalny arrested?\n\nhow long was navalny in a coma\n"
    result = runner.invoke(app, ["ask", "--index", str(seed_index), "-"], input=lines)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("Q: when was navalny arrested?\n")
    assert "\n\nQ: how long was navalny in a coma\n" in out
    assert "question is empty" in result.stderr


def test_ask_stream_json_error_rows_carry_every_field(runner: CliRunner, seed_index: Path) -> None:
    result = runner.invoke(app, ["ask", "--json", "--index", str(seed_index), "-"], input="\n")
    row = json.loads(result.stdout)
    assert row["answered"] is False and "confidence" in row and row["passages"] == []


def test_wording_plurals_and_no_doubled_quote(runner: CliRunner, seed_index: Path) -> None:
    listed = runner.invoke(app, ["sources", "--index", str(seed_index)])
    assert listed.output.splitlines()[-1] == "1 article"
    answer = runner.invoke(app, ["ask", "--index", str(seed_index), "who is Leonid Volkov?"])
    assert "““" not in answer.output and '“"' not in answer.output
    assert not answer.output.startswith("\n")


def test_build_errors_have_no_blank_line_before_them(runner: CliRunner, tmp_path: Path) -> None:
    failed = runner.invoke(app, ["build", "--corpus", str(tmp_path / "nope")])
    assert failed.exit_code == 1 and failed.output.startswith("error: corpus folder")
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = runner.invoke(app, ["build", "--corpus", str(empty), "--index", str(tmp_path / "i")])
    assert nothing.exit_code == 1 and nothing.output.startswith("error: no articles in")


def test_build_hint_names_the_index_that_was_passed(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "my index"
    result = runner.invoke(app, ["ask", "--index", str(missing), "who?"])
    assert result.exit_code == 1
    assert f"`newsbot build --index '{missing}'`" in result.output


def test_unknown_newsbot_names_get_a_warning(tmp_path: Path, seed_index: Path) -> None:
    (tmp_path / ".env").write_text("NEWSBOT_ANSWER_CONUT=4\n")
    result = _run("sources", "--index", str(seed_index), env={"NEWSBOT_TYPO": "1"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = result.stderr.splitlines()
    assert any(w.startswith("warning: NEWSBOT_TYPO (in the environment)") for w in warnings)
    assert any("NEWSBOT_ANSWER_CONUT (in .env)" in w for w in warnings)
    assert len(warnings) == 2


def test_add_errors_are_one_line_never_a_traceback(runner: CliRunner, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    env = {"NEWSBOT_INDEX_DIR": str(tmp_path / "index")}
    for source in ("http://example.org/" + "a" * 100_000, "http://[::1", "x" * 5000):
        result = runner.invoke(app, ["add", "--no-build", "--corpus", str(corpus), source], env=env)
        assert result.exit_code == 1, result.output[:500]
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        ), repr(result.exception)[:500]
        assert "Traceback" not in result.output
        assert all(len(line) < 1200 for line in result.output.splitlines()), result.output[:500]


def test_add_to_a_missing_corpus_does_not_say_pass_corpus(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["add", "--corpus", str(tmp_path / "nope"), "x.md"])
    assert result.exit_code == 1 and "error: corpus folder" in result.output
    assert "pass --corpus" not in result.output
