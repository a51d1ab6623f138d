# One image for the four services; docker-compose.yml picks the service by command.
# The dashboard's front-end package (Apache ECharts), pinned by package-lock.json.
FROM node:20-slim AS frontend
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
RUN pip install --no-cache-dir "uv==0.13.9"
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY shared ./shared
COPY services ./services
COPY migrations ./migrations
COPY deploy/responder-execution-modes.json ./deploy/
COPY --from=frontend /app/node_modules/echarts/dist/echarts.esm.min.js ./node_modules/echarts/dist/
RUN uv sync --frozen --no-dev
ENV PATH=/app/.venv/bin:$PATH
RUN useradd --system --uid 10001 jsb
USER jsb
EXPOSE 8000
CMD ["uvicorn", "services.ledger.app:app", "--host", "0.0.0.0", "--port", "8000"]
