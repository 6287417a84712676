"""What a fresh install and a deployment rely on: settings documented with their true defaults,
one torch pin, the dependencies an old pip needs spelled out, and the deployment examples."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from bot.settings import (
    DEFAULT_ABSTAIN_THRESHOLD,
    DEFAULT_BACKEND,
    DEFAULT_CROSSLINGUAL_THRESHOLD,
    DEFAULT_MODEL,
    Settings,
    environment_names,
)
from bot.settings import unknown_names as find_unknown
from index.embed import DEFAULT_BACKEND as ENGINE_BACKEND
from index.embed import DEFAULT_MODEL as ENGINE_MODEL
from index.search import SearchOptions
from tests.conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _example_values() -> dict[str, str]:
    """NAME=value lines of .env.example, commented out or not."""
    values = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        match = re.fullmatch(r"#? ?([A-Z_]+)=(.*)", line)
        if match:
            values[match.group(1)] = match.group(2)
    return values


def test_env_example_lists_every_setting_with_its_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = _example_values()
    assert set(values) == set(environment_names())
    for name in list(os.environ):
        if name.startswith(("NEWSBOT_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items() if v))
    assert Settings(_env_file=env_file).model_dump() == Settings(_env_file=None).model_dump()


def test_environment_names_use_the_prefix_and_keep_the_telegram_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSBOT_ANSWER_COUNT", "4")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:1/bot")
    settings = Settings(_env_file=None)
    assert settings.answer_count == 4 and settings.telegram_bot_token.get_secret_value() == "1:abc"
    assert settings.telegram_api_base_url == "http://127.0.0.1:1/bot"
    assert Settings(_env_file=None, index_dir="x").index_dir == Path("x")  # by field name


def test_unknown_names_are_found_in_the_environment_and_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("NEWSBOT_THREADS=1\nnewsbot_typo=2\nOTHER=3\n")
    environ = {"NEWSBOT_ANSWER_COUNT": "3", "NEWSBOT_ANSWERS": "3", "PATH": "/bin"}
    found = find_unknown(environ, env_file)
    assert found == [("NEWSBOT_ANSWERS", "the environment"), ("newsbot_typo", str(env_file))]


def test_settings_defaults_match_the_engine() -> None:
    assert DEFAULT_MODEL == ENGINE_MODEL
    assert DEFAULT_BACKEND == ENGINE_BACKEND
    assert SearchOptions().threshold == DEFAULT_ABSTAIN_THRESHOLD
    assert SearchOptions().crosslingual_threshold == DEFAULT_CROSSLINGUAL_THRESHOLD


def test_torch_is_pinned_in_one_place_inside_the_supported_range() -> None:
    pin = Requirement(
        next(
            line
            for line in (REPO / "requirements-torch.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        )
    )
    (version,) = [s.version for s in pin.specifier]
    supported = next(
        Requirement(d) for d in PYPROJECT["project"]["dependencies"] if d.startswith("torch")
    )
    assert supported.specifier.contains(version)
    makefile = (REPO / "Makefile").read_text()
    assert "requirements-torch.txt" in makefile and version not in makefile
    assert version not in (REPO / "Dockerfile").read_text()


def test_old_pip_needs_lxml_html_clean_named_and_a_license() -> None:
    names = {Requirement(d).name for d in PYPROJECT["project"]["dependencies"]}
    assert "lxml_html_clean" in names
    assert PYPROJECT["project"]["license"] == "MIT" and (REPO / "LICENSE").is_file()
    assert "newsbot*" in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    assert PYPROJECT["project"]["scripts"]["newsbot"] == "newsbot.cli.app:main"


def test_compose_runs_the_bot_and_a_periodic_feed_add_on_shared_volumes() -> None:
    compose = yaml.safe_load((REPO / "docs" / "deploy" / "compose.yaml").read_text())
    bot, feed = compose["services"]["bot"], compose["services"]["add-feed"]
    assert bot["volumes"] == feed["volumes"]
    assert {v.split(":")[1] for v in bot["volumes"]} == {"/app/corpus", "/app/var"}
    assert "newsbot add --feed" in " ".join(feed["command"])
    assert set(compose["volumes"]) == {v.split(":")[0] for v in bot["volumes"]}


def test_systemd_unit_runs_the_bot() -> None:
    unit = (REPO / "docs" / "deploy" / "newsbot.service").read_text()
    assert re.search(r"^ExecStart=\S*/newsbot run$", unit, re.M)
    assert re.search(r"^ExecReload=.*-HUP", unit, re.M) and "EnvironmentFile=" in unit
