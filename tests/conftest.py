"""Shared fixtures: one embedding model and one built index per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.settings import Settings
from index.build import build_index
from index.embed import Embedder

REPO = Path(__file__).resolve().parent.parent
SEED_CORPUS = REPO / "corpus"
QUESTIONS = REPO / "tests" / "data" / "questions.jsonl"


# --- the answering core (lead) ---------------------------------------------------------------


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real default model, loaded once."""
    return Embedder(threads=2)


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """An index built from the seed corpus, shared read-only by the session's tests."""
    index_dir = tmp_path_factory.mktemp("seed-index")
    build_index(SEED_CORPUS, index_dir, lambda: embedder, embedder.name)
    return index_dir


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the seed corpus that a test may change."""
    target = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, target)
    return target


@pytest.fixture
def core_settings(seed_index: Path) -> Settings:
    """Settings pointing at the shared seed index, with no token and no .env file."""
    return Settings(_env_file=None, index_dir=seed_index, corpus_dir=SEED_CORPUS)
