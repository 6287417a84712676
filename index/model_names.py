"""Which model embeds, run how, and the name an index records for that pair.

The one place these defaults live: ``bot/settings.py`` reads them from here (this module imports
nothing heavy, so reading settings does not load numpy or the model code) and so does
``index/embed.py``.
"""

from __future__ import annotations

import shlex
from typing import Literal

DEFAULT_MODEL = "all-MiniLM-L6-v2"

Backend = Literal["torch", "onnx-int8"]
BACKENDS: tuple[Backend, ...] = ("torch", "onnx-int8")
# onnx-int8 since 2026-12-01: the question sets keep their hit@1, a question encodes in a third
# of torch's time or less, large builds are as fast (docs/benchmarks.md, "Embedding backends,
# rerun").
DEFAULT_BACKEND: Backend = "onnx-int8"


def model_identity(name: str, backend: Backend) -> str:
    """What an index records as its model: the name, and the backend unless it is torch
    (so indexes built before backends existed, all with torch, stay valid)."""
    return name if backend == "torch" else f"{name} [{backend}]"


def split_identity(identity: str) -> tuple[str, str]:
    """(model name, backend) of a recorded identity; an identity without a backend is torch's."""
    name, bracket, rest = identity.rpartition(" [")
    if bracket and rest.endswith("]"):
        return name, rest[:-1]
    return identity, "torch"


def mismatch_advice(built: str, configured: str) -> str:
    """What to do when an index was built with ``built`` but ``configured`` is set: rebuild,
    or set back the settings that differ (``newsbot build`` advice, then the settings)."""
    old_name, old_backend = split_identity(built)
    new_name, new_backend = split_identity(configured)
    settings = []
    if old_name != new_name:
        settings.append(f"NEWSBOT_MODEL={shlex.quote(old_name)}")
    if old_backend != new_backend:
        settings.append(f"NEWSBOT_BACKEND={old_backend}")
    advice = "run `newsbot build` (it embeds every article again)"
    return f"{advice}, or set {' '.join(settings)}" if settings else advice


def shown_identity(identity: str) -> str:
    """An identity as a person reads it: the backend always named ("... [torch]")."""
    name, backend = split_identity(identity)
    return f"{name} [{backend}]"
