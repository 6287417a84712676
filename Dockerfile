# newsbot, CPU only.   docker build -t newsbot .   docker run -e TELEGRAM_BOT_TOKEN=... newsbot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NEWSBOT_CORPUS_DIR=/app/corpus \
    NEWSBOT_INDEX_DIR=/app/var/index \
    NEWSBOT_STATE=/app/var/state.sqlite3

RUN useradd --create-home --uid 10001 newsbot
WORKDIR /app

# torch first, as a CPU build: left to resolve on its own, pip pulls a multi-GB CUDA build.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY index ./index
COPY newsbot ./newsbot
RUN pip install .

COPY corpus ./corpus
RUN mkdir -p var && chown -R newsbot:newsbot /app
USER newsbot

# The index is built into the image; the token comes from the environment at run time.
RUN newsbot build
CMD ["newsbot", "run"]
