# gunicorn settings for one application host (see docs/deployment.md).
bind = "127.0.0.1:8001"
workers = 4  # about 2 per core
threads = 4
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = "10.0.0.10"  # the nginx host; the app itself trusts one proxy (PORTAL_PROXIES=1)
accesslog = "-"
# The access log carries paths and status codes only; form bodies never reach it.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss'
