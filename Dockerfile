# syntax=docker/dockerfile:1
# The web service: Django on gunicorn with threaded workers; WhiteNoise serves the static files.
# Build: docker compose build (or docker build -t casualty-db .). Configuration: see .env.example.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    PORT=8000

WORKDIR /app

# Dependencies before the code, so that a code change does not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are collected into the image. Production settings refuse to load without a
# secret key, a database URL and allowed hosts; these build-only values satisfy them and
# exist only for this command, which never connects to the database.
RUN DJANGO_SECRET_KEY=build-only-collectstatic-key-never-used-to-serve-requests-0000 \
    DATABASE_URL=postgres://build@127.0.0.1:1/build \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput

# Serve as an unprivileged user that cannot modify the code or the collected static files.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app
USER app

EXPOSE 8000
# Generous start period: the entrypoint migrates and loads the reference data first.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "docker/healthcheck.py"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "--config", "config/gunicorn.conf.py", "config.wsgi:application"]
