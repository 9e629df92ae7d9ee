# Hearth: runs `hearth run` with a config mounted at /config/hearth.toml.
#   docker build -t hearth .
#   docker run -v $PWD/hearth.toml:/config/hearth.toml:ro -v hearth-data:/data -e TELEGRAM_TOKEN=... hearth
# In the config, point SQLite at the data volume: database = "sqlite+aiosqlite:////data/hearth.db"
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY campaigns ./campaigns
COPY storage ./storage
RUN pip install '.[postgres]' \
    && useradd --create-home --uid 10001 hearth \
    && mkdir -p /data /config \
    && chown hearth:hearth /data

USER hearth
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080 8443

ENTRYPOINT ["hearth"]
CMD ["run", "--config", "/config/hearth.toml"]
