# gridbot in a container (docs/deploy.md). Build: docker build -t gridbot .
# Run:   docker run -d --name gridbot --restart unless-stopped \
#          --env-file /etc/gridbot/token.env \
#          -v /etc/gridbot/config.toml:/etc/gridbot/config.toml:ro \
#          -v gridbot-data:/var/lib/gridbot gridbot
# The config must set [storage] path = "/var/lib/gridbot/gridbot.sqlite3" and [metrics] port
# (9090 here, or change GRIDBOT_HEALTH_URL) for the HEALTHCHECK below.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GRIDBOT_HEALTH_URL=http://127.0.0.1:9090/healthz

# The digest's trend chart labels are Chinese: without a CJK font it is left out.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*

# Only what the package needs: .dockerignore keeps configs, tokens and databases out.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY sandbox ./sandbox
RUN pip install . && rm -rf /src

RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/gridbot --create-home gridbot
USER gridbot
WORKDIR /var/lib/gridbot
VOLUME ["/var/lib/gridbot"]

# /healthz answers 503 with the reason when intake stalls, the database will not take a
# write or the outbox falls behind; urlopen raises on it, so the check fails.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['GRIDBOT_HEALTH_URL'], timeout=5)"]

# Logs go to stderr, one JSON object per line: docker (or journald) rotates them.
ENTRYPOINT ["gridbot"]
CMD ["run", "--config", "/etc/gridbot/config.toml", "--log-format", "json"]
