"""WSGI entry point for gunicorn: `gunicorn -c deploy/gunicorn.conf.py forms_api.wsgi:app`."""

from forms_api import create_app, serving

app = serving(create_app())
