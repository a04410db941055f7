"""Gunicorn's settings for the shop (gunicorn reads ./gunicorn.conf.py; the command line can
override any of them)."""

import gc


def post_worker_init(worker):
    """Each worker, before it accepts a connection: compile what the hottest requests use
    (shop/warm_up.py), then keep the collector from walking it, as wsgi.py does for the app."""
    from shop.warm_up import warm_up

    warm_up(worker.wsgi)
    gc.collect()
    gc.freeze()
