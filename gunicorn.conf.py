"""Gunicorn's settings for the shop (gunicorn reads ./gunicorn.conf.py; ``GUNICORN_CMD_ARGS`` and
the command line override any of them).

Processes that serve one request at a time (gunicorn's sync worker): a page is mostly Python's
CPU time and the database's, and the threads of one process take turns on one core. A sync
process takes a connection only when it is free, so a request waits for the first free process
instead of queueing behind a busy one, as it can with the gthread worker, whose processes take
every connection they can and queue it for their threads. ``WEB_CONCURRENCY`` (gunicorn's own
name for it) sets how many processes; by default the CPUs this server may run on, plus one.
On a host that runs PostgreSQL too, that served the KPI dashboard and the flash sale better than
processes of two or four threads or of one gthread thread (bench/README.md); where the database
is on another host, requests spend longer waiting for it, and more processes (up to twice the
CPUs plus one) keep the cores busy.

A sync process answers each connection once and closes it, and reads a request from a slow
client for as long as it takes: it belongs behind a reverse proxy that holds the clients'
connections and buffers their requests and responses (nginx does by default), as the README's
production section says.
"""

import gc
import os


def cpus() -> int:
    """The CPUs this process may run on (its affinity, where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


workers = int(os.environ.get("WEB_CONCURRENCY") or cpus() + 1)
worker_class = "sync"
# A sync process that has not answered within this many seconds is restarted, and its request
# lost. No request should come near it: the HR roster upload, which took 67 s for 20,000 new
# employees, now only queues the file for the worker (0.2 s). The longest measured since: the
# audit log's CSV, which holds at most 50,000 entries (20,000 took 4.9 s on SQLite), and the KPI
# employees table as CSV, about 1 s for 20,000 employees. It stays generous all the same.
timeout = 300


def post_worker_init(worker):
    """Each worker, before it accepts a connection: keep the collector from walking what the
    app loaded, as wsgi.py does for the app."""
    gc.collect()
    gc.freeze()
