"""The Dockerfile: valid instructions, CPU torch before the project, dependencies in a layer of
their own before the code, non-root, index baked in, volumes, health check and webhook port.

Docker cannot run here, so the file is parsed and checked against the README's install steps
(the torch pin in requirements-torch.txt)."""

from __future__ import annotations

import re
import shlex

from tests.conftest import REPO

DOCKER_INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}  # fmt: skip


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    assert not current, "a continuation line runs off the end"
    parsed = []
    for line in logical:
        word, _, rest = line.strip().partition(" ")
        parsed.append((word.upper(), rest.strip()))
    return parsed


def test_dockerfile_is_valid_and_installs_cpu_torch_first() -> None:
    steps = dockerfile_instructions((REPO / "Dockerfile").read_text())
    assert all(word in DOCKER_INSTRUCTIONS for word, _ in steps)
    assert steps[0][0] == "FROM" and re.fullmatch(r"python:3\.11-slim\S*", steps[0][1])
    runs = [args for word, args in steps if word == "RUN"]
    torch = next(i for i, r in enumerate(runs) if "requirements-torch.txt" in r)
    deps = next(i for i, r in enumerate(runs) if "pyproject.toml" in r and "pip install" in r)
    project = next(i for i, r in enumerate(runs) if re.search(r"pip install --no-deps \.(\s|$)", r))
    build = next(i for i, r in enumerate(runs) if r.startswith("newsbot build"))
    assert torch < deps < project < build
    assert "--index-url ${TORCH_INDEX}" in runs[torch]
    assert ("ARG", "TORCH_INDEX=https://download.pytorch.org/whl/cpu") in steps
    # The code is copied after the dependencies are installed: a code change reuses that layer.
    words = [w for w, _ in steps]
    first_code = next(i for i, (w, a) in enumerate(steps) if w == "COPY" and a.startswith("bot"))
    install_deps = next(i for i, (w, a) in enumerate(steps) if w == "RUN" and a == runs[deps])
    assert install_deps < first_code
    users = [args for word, args in steps if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert [w for w, _ in steps].index("USER") < [w for w, _ in steps].index("CMD")
    assert steps[-1] == ("CMD", '["newsbot", "run"]')
    assert ("VOLUME", '["/app/corpus", "/app/var"]') in steps
    assert words.index("VOLUME") > max(i for i, w in enumerate(words) if w == "RUN")
    assert ("EXPOSE", "8443") in steps
    health = next(a for w, a in steps if w == "HEALTHCHECK")
    assert health.endswith('CMD ["newsbot", "sources"]')
    assert "TELEGRAM_BOT_TOKEN" not in "".join(a for w, a in steps if w in ("ENV", "ARG"))
    for word, args in steps:
        if word in ("COPY", "ADD"):
            for source in shlex.split(args)[:-1]:
                assert (REPO / source).exists(), source
