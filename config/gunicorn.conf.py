"""Gunicorn settings for the container: `gunicorn --config config/gunicorn.conf.py config.wsgi:application`.

Threaded workers, because requests mostly wait on PostgreSQL and CSV exports stream
for a while; a slow export then holds one thread, not a whole worker. Sizes come from
the environment so a deployment can tune them without rebuilding the image.
"""

import os
from pathlib import Path

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Long enough for a large CSV export to finish streaming.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
# The longest request line gunicorn reads (its maximum); the application answers URLs over
# MAX_URL_LENGTH (config/settings/base.py, below this) with its own 414.
limit_request_line = 8190
accesslog = "-"
errorlog = "-"
# The worker heartbeat file: on a container's overlay filesystem it can stall, in memory it cannot.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None
# Nothing manages gunicorn at run time; no socket in the (read-only) home directory.
control_socket_disable = True
