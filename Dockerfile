# The API image: Gunicorn + Uvicorn workers serving app.main:create_app(), models baked in.
# nginx (TLS) and Redis run beside it; see docker-compose.yml.

# --- build: install the project into a virtualenv and train the models -------------------
FROM python:3.11-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OMP_NUM_THREADS=1 \
    OPENBLAS_NUM_THREADS=1

WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# Dependencies first, so editing the code does not reinstall them: exactly the pins of the
# lock, each checked against its hashes; then the project itself, adding nothing.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY app ./app
COPY auth ./auth
RUN pip install --no-cache-dir --no-deps --no-build-isolation .

# The models are trained here, from the data in the repository, so the image
# carries exactly the artifacts (and SHA-256 manifests) its code was tested with.
COPY data ./data
RUN housing-api train --data data/housing.csv --out /src/models --card /src/docs/MODEL_CARD.md

# --- runtime: slim Python, no compilers, no build files, not root ------------------------
FROM python:3.11-slim-bookworm AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OMP_NUM_THREADS=1 \
    OPENBLAS_NUM_THREADS=1 \
    ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    MODELS_DIR=/app/models \
    STATE_DIR=/var/lib/housing-api \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus

RUN groupadd --system --gid 10001 api \
    && useradd --system --uid 10001 --gid api --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin api \
    && mkdir -p /var/lib/housing-api \
    && chown api:api /var/lib/housing-api

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /src/models /app/models
COPY gunicorn.conf.py /app/gunicorn.conf.py

WORKDIR /app
USER 10001:10001
EXPOSE 8000

# slim has no curl: ask the liveness endpoint with the standard library.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'); sys.exit(0 if urllib.request.urlopen(url, timeout=3).status == 200 else 1)"]

CMD ["gunicorn", "--config", "/app/gunicorn.conf.py", "app.main:create_app()"]
