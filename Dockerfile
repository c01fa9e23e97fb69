# One image for `jacameno serve` and `jacameno worker` (see docker-compose.yml).
FROM node:20-bookworm-slim AS web
WORKDIR /src
COPY . .
RUN if [ -f web/package.json ]; then cd web && npm ci --no-audit --no-fund && npm run build; \
    else mkdir -p web/dist; fi

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 JACAMENO_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY api api
COPY collab collab
COPY docs_model docs_model
COPY audio_services audio_services
RUN pip install --no-cache-dir -e . && mkdir -p /data && useradd --system --home /data jacameno \
    && chown jacameno /data
COPY --from=web /src/web/dist web/dist
USER jacameno
EXPOSE 8000
CMD ["jacameno", "serve", "--host", "0.0.0.0", "--port", "8000"]
