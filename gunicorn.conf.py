"""Gunicorn's settings for the shop (gunicorn reads ./gunicorn.conf.py; the command line can
override any of them)."""

import gc


def post_worker_init(worker):
    """Each worker, before it accepts a connection: keep the collector from walking what the
    app loaded, as wsgi.py does for the app."""
    gc.collect()
    gc.freeze()
