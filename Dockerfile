# The one image behind web, worker and beat; production settings come only from the environment.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/var/lib/csg \
    STATIC_ROOT=/app/staticfiles

RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext-base \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 app \
    && mkdir -p /var/lib/csg && chown app:app /var/lib/csg

WORKDIR /app
COPY pyproject.toml README.md ./
COPY manage.py ./
COPY core ./core
COPY config ./config
COPY audit ./audit
COPY accounts ./accounts
COPY brokers ./brokers
COPY signatures ./signatures
COPY risk ./risk
COPY officers ./officers
COPY csg_sign ./csg_sign
RUN pip install --no-cache-dir . \
    # Static files are collected at build time with placeholder secrets: nothing here is kept.
    && DEBUG=false SECRET_KEY="build-only-$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
       AUDIT_SIGNING_KEY=build-only DATA_DIR=/tmp/build python manage.py collectstatic --noinput \
    && rm -rf /tmp/build

USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--forwarded-allow-ips", "*", "--logger-class", "core.gunicorn_logging.RedactingLogger"]
