"""Development on one machine: debug on, loopback only, a throwaway key unless one is given."""

from .base import *  # noqa: F403
from .base import env, env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
# Only ever used on loopback; production refuses to start without DJANGO_SECRET_KEY.
SECRET_KEY = env("DJANGO_SECRET_KEY") or "insecure-local-development-key-never-use-in-production"

# Static files come from the apps' finders and are re-read on change: no collectstatic in development.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The synthetic-data generator (manage.py generate_synthetic) is development tooling: never in production.
INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks"]  # noqa: F405
