"""The retrieval quality bar, measured with `newsbot eval` on our question set."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from tests.conftest import QUESTIONS


def test_question_set_meets_the_bar(seed_index: Path) -> None:
    result = CliRunner().invoke(app, ["eval", str(QUESTIONS), "--json", "--index", str(seed_index)])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["answerable"] >= 40 and figures["questions"] - figures["answerable"] >= 10
    assert figures["hit@1"] >= 0.90
    off_abstained, off_total = map(int, figures["off_topic_abstained"].split("/"))
    assert off_abstained == off_total >= 10, "every off-topic question must be abstained"
    assert figures["wrongly_abstained"] <= 1
