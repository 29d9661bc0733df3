import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun, worker_process_init

from . import broker  # noqa: F401  (registers the atelierfs:// transport)
from .logs import REQUEST_ID_HEADER, request_id_var

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


# ---- the request id follows the job: web request -> task headers -> worker -> its polls ----
@before_task_publish.connect
def _carry_request_id(headers=None, **kwargs):
    request_id = request_id_var.get()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


_task_tokens: dict = {}


@task_prerun.connect
def _restore_request_id(task_id=None, task=None, **kwargs):
    if task is None or getattr(task.request, "is_eager", False):
        return
    request_id = getattr(task.request, REQUEST_ID_HEADER, None) or (task.request.headers or {}).get(REQUEST_ID_HEADER)
    _task_tokens[task_id] = request_id_var.set(request_id or f"task-{task_id}")


@task_postrun.connect
def _forget_request_id(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        request_id_var.reset(token)


_inherited_pools: list = []


@worker_process_init.connect
def _fresh_pool_in_child(**kwargs):
    """A prefork child must not use a connection pool inherited from the parent (its threads did
    not survive the fork, its sockets are the parent's). Celery's Django fixup has already let go
    of inherited connections; the pool is set aside unclosed (closing would end the parent's
    sessions) and the child opens its own on first use."""
    from django.db import connections

    pools = getattr(type(connections["default"]), "_connection_pools", None)
    if pools:
        _inherited_pools.extend(pools.values())
        pools.clear()
