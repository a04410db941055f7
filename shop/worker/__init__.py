"""The worker: one process (``flask shop worker``) that runs the periodic jobs on their schedules.

``registry.py`` lists the jobs (add one with one line), ``tasks.py`` holds what the jobs and the
cron commands run, ``locks.py`` keeps one run of a job at a time across every worker,
``heartbeat.py`` records that a worker is alive (``/healthz`` reads it), and ``runner.py``
schedules them with APScheduler.
"""
