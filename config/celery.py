import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

from . import broker  # noqa: F401  (registers the atelierfs:// transport)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("atelier")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Celery's Django fixup closes every database connection before and after each task unless
# this is set; a new PostgreSQL connection per task costs more than most of our tasks do.
# Connections are instead recycled by Django's own rules (CONN_MAX_AGE, health checks) below.
app.conf["CELERY_DB_REUSE_MAX"] = 1_000_000
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _recycle_old_connections(task=None, **kwargs):
    if task is not None and getattr(task.request, "is_eager", False):
        return  # inline (eager) runs share the caller's connection and transaction
    from django.db import close_old_connections

    close_old_connections()
