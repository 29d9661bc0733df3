"""Request ids and JSON log lines.

A request id is taken from the client's X-Request-ID (when it looks like one) or made fresh by
apps/ops/middleware.py, kept in a context variable for the request, copied into the headers of
every Celery task published while it is set (config/celery.py) and restored in the worker
around the task, so one id follows a job from the submit to the worker and its polls."""
from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
REQUEST_ID_HEADER = "request_id"  # the Celery message header that carries it
_VALID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(value: str | None) -> str:
    """The client's id if it is a plain token of sane length (it lands in logs), else a new one."""
    return value if value and _VALID.match(value) else new_request_id()


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


# API keys (sk_, pk_, atl_) anywhere in a line, and ?key= / &key= query values (reference 002
# lets clients send the key in the URL): a key never reaches a log line.
_SECRETS = re.compile(r"\b(?:sk|pk|atl)_[A-Za-z0-9_-]{16,}|(?<=[?&]key=)[^&\s\"']+")


def redact(text: str) -> str:
    return _SECRETS.sub("[redacted]", text)


class RedactKeysFilter(logging.Filter):
    """Replaces API keys in the formatted message (args included) before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or request_id_var.get(),
            "process": record.process,
        }
        task_id = getattr(record, "task_id", None)
        if task_id:
            line["task_id"] = task_id
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)
