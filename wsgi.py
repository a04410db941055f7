"""WSGI entry point: `gunicorn wsgi:app`, and `flask --app wsgi ...`."""

import gc

from shop import create_app

app = create_app()
# What is loaded by now (modules, mappers, routes, config) lives as long as the process:
# collect the garbage left from loading it, then keep the collector from walking the rest
# again on every full collection.
gc.collect()
gc.freeze()
