"""cron: call a URL of yours at a fixed interval.

The service registers itself in CronConfig.ready(), once models can be imported.
Celery beat runs tasks.dispatch_due every 10 seconds. It claims each due job
and queues tasks.run_job, which posts to the callback URL through the
outbound guard (services/outbound.py).
"""
