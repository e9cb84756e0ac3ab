# gunicorn settings for one application host (see docs/deployment.md).
# gunicorn sits behind nginx (deploy/nginx.conf) and never faces clients directly: nginx reads each request
# whole before passing it on, so a slow or stalled client never holds one of these threads.
from __future__ import annotations

from typing import Any

bind = "127.0.0.1:8001"
workers = 4  # about 2 per core
threads = 4
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
# Longer than nginx's upstream keepalive_timeout (60 s): nginx, not gunicorn, closes an idle connection, so
# nginx never sends a POST on a connection gunicorn is closing at that moment (a 502 nginx may not retry).
keepalive = 75
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = "10.0.0.10"  # the nginx host; the app itself trusts one proxy (PORTAL_PROXIES=1)
accesslog = "-"
# The access log carries paths and status codes only; form bodies never reach it.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss'


def on_starting(server: Any) -> None:
    """Warn at start-up when several workers would each count rate limits in their own memory."""
    from forms_api.errors import SettingError
    from forms_api.security import shared_limits_warning
    from forms_api.settings import from_env

    try:
        storage = from_env().ratelimit_storage_uri
    except SettingError:
        return  # each worker stops on the bad setting with its own message; nothing to add here
    message = shared_limits_warning(storage, server.cfg.workers)
    if message:
        server.log.warning(message)
