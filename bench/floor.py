"""The floor under any Django gateway on this stack, for bench/gateway.py to print beside
Atelier: granian (WSGI, the production server's settings) + Django with no middleware + one
view that forwards the request body to the fake upstream through the same pooled httpx client
the adapters use (apps.providers.http.client_for) and returns its answer. No key, no limiter,
no database, no catalog, no parsing: what is left is the server, Django's request/response
and one upstream round trip from Python. Nothing in Atelier's code path is here on purpose;
read Atelier's figure against this one.

granian serves `bench.floor:application` with DJANGO_SETTINGS_MODULE=bench.floor and
FLOOR_UPSTREAM=<fake url>."""
from __future__ import annotations

import os

from config.settings import *  # noqa: F401,F403 - the production settings, then the floor's changes

ROOT_URLCONF = "bench.floor"
MIDDLEWARE: list[str] = []
INSTALLED_APPS: list[str] = []  # no app of Atelier's: no ready() hooks

from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

UPSTREAM = os.environ.get("FLOOR_UPSTREAM", "http://127.0.0.1:9") + "/open/v1/chat/completions"


@csrf_exempt
def forward(request):
    from apps.providers.http import client_for

    # Atelier's adapters wait for a pooled connection as long as for the answer; so does the floor
    # (at 200 clients the pool's 100 connections are all busy).
    answer = client_for(UPSTREAM).post(UPSTREAM, content=request.body, timeout=120.0,
                                       headers={"Content-Type": "application/json"})
    return HttpResponse(answer.content, status=answer.status_code, content_type="application/json")


urlpatterns = [path("v1/chat/completions", forward)]


from django.core.wsgi import get_wsgi_application  # noqa: E402

# granian's target. Django's set-up imports this module as its settings: already loaded, so
# the settings above are what it reads.
application = get_wsgi_application()
