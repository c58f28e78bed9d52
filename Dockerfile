# Production image for riskreview (web, Celery worker and beat share it).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NUMBA_CACHE_DIR=/tmp/numba-cache \
    MODEL_DIR=/data/models

# Unprivileged runtime user. /data/models is created here, owned by that user,
# so a fresh named volume mounted there inherits the ownership.
RUN groupadd --system app \
    && useradd --system --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app \
    && mkdir -p /app /data/models \
    && chown app:app /app /data/models

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=app:app . .

USER app

# Static files are baked into the image. The dummy key exists only for this step.
RUN mkdir -p var \
    && SECRET_KEY=collectstatic-build-only-not-secret python manage.py collectstatic --noinput

EXPOSE 8000

CMD ["gunicorn", "riskreview.wsgi", "--config", "python:riskreview.gunicorn_conf", "--bind", "0.0.0.0:8000", "--workers", "3"]
