# Hearth: a small image running as a non-root user; the database lives in the /app/data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH="/app/.venv/bin:${PATH}"

# WeasyPrint (document PDFs) needs Pango, HarfBuzz's subsetter and a font with accents and
# typographic quotes; the slim image has none of them.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY config ./config

# The same install step as the README's first command.
RUN python3 -m venv .venv && .venv/bin/pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 hearth \
    && mkdir -p /app/data && chown hearth:hearth /app/data

USER 10001:10001
VOLUME ["/app/data"]
CMD ["python", "-m", "bot"]
