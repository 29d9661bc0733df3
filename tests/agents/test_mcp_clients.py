"""The official MCP SDK client against Atelier: Streamable HTTP at /mcp on a live granian server,
and stdio through `manage.py mcp`, both with a real Celery worker running the jobs."""
from __future__ import annotations

import sys

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from apps.accounts.services import user_onboard
from apps.api.services import api_key_create
from apps.generations.models import Generation
from apps.wallet.audit import wallet_audit
from tests.support.web import WebProcess, web_env_for_tests
from tests.support.worker import ROOT, _worker_env

pytestmark = [pytest.mark.worker]

EXPECTED_TOOLS = {"get_models", "get_balance", "generate_media", "get_generation_status", "quote",
                  "cancel_generation"}


@pytest.fixture
def user(transactional_db, make_user, catalog):
    user = make_user("agent@example.com")
    user_onboard(user=user)
    return user


@pytest.fixture
def key(user):
    return api_key_create(user=user, workspace=user.current_workspace, name="agent").secret


@pytest.fixture
def web(transactional_db, catalog, worker):
    server = WebProcess(extra_env=web_env_for_tests())
    yield server
    server.stop()


async def _poll(client: Client, tool: str, generation_id: str, *, timeout: float = 90) -> dict:
    with anyio.fail_after(timeout):
        while True:
            result = await client.call_tool(tool, {"generation_id": generation_id})
            assert not result.is_error, result.content
            status = result.structured_content
            if status["status"] in ("completed", "failed"):
                return status
            assert status["status"] in ("queued", "processing") and status["poll_after_seconds"] > 0
            await anyio.sleep(0.3)


async def agent_flow(client: Client) -> dict:
    """What reference 001 tells an agent to do, checked at each step."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert EXPECTED_TOOLS <= set(tools)
    media_schema = tools["generate_media"].input_schema
    assert "sandbox-image" in media_schema["properties"]["model"]["enum"]
    per_model = {rule["if"]["properties"]["model"]["const"]: rule["then"]["properties"]["options"]
                 for rule in media_schema["allOf"]}
    assert per_model["sandbox-image"]["properties"]["n"] == {"type": "integer", "minimum": 1, "maximum": 4,
                                                            "description": "Images", "default": 1}

    models = (await client.call_tool("get_models", {"modality": "video"})).structured_content["models"]
    runway = next(m for m in models if m["id"] == "runway-gen4-turbo")
    assert runway["needs_input_media"] and runway["input_media"][0]["param"] == "image_url"
    assert all(m["modality"] == "video" for m in models)

    balance = (await client.call_tool("get_balance", {})).structured_content
    assert balance["currency"] == "credits" and balance["available"] == "100"
    price = (await client.call_tool("quote", {"model": "sandbox-image", "prompt": "a kite",
                                              "options": {"n": 2}})).structured_content
    assert price["price"] == "2" and price["affordable"] is True

    bad = await client.call_tool("generate_media", {"model": "sandbox-image", "prompt": "a kite",
                                                    "options": {"n": 9}})
    assert bad.is_error and bad.structured_content["error"]["param"] == "options.n"
    assert bad.structured_content["error"]["code"] == "invalid_request"

    started = await client.call_tool("generate_media", {"model": "sandbox-image", "prompt": "a red kite over dunes",
                                                        "options": {"n": 2, "size": "512x512"}})
    assert not started.is_error, started.content
    job = started.structured_content
    assert job["status"] in ("queued", "processing") and job["price"] == "1"  # 2 x 0.5 at 512x512
    done = await _poll(client, "get_generation_status", job["generation_id"])
    assert done["status"] == "completed" and len(done["outputs"]) == 2
    for output in done["outputs"]:
        assert output["url"] and output["thumbnail_url"] and output["optimized_url"]
    return {"image": job["generation_id"], "urls": [output["url"] for output in done["outputs"]]}


def _http_client(url: str, key: str) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60)
    return Client(streamable_http_client(url, http_client=http))


def test_streamable_http_flow(web, key, user):
    async def main():
        async with _http_client(f"{web.url}/mcp", key) as client:
            return await agent_flow(client)

    ids = anyio.run(main)
    assert Generation.objects.get(pk=ids["image"]).source == "agent"
    assert all(httpx.get(url, timeout=30).headers["content-type"] == "image/png" for url in ids["urls"])
    assert wallet_audit() == []


def test_streamable_http_refuses_a_missing_or_wrong_key(web):
    missing = httpx.post(f"{web.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=30)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_api_key"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = httpx.post(f"{web.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                       headers={"Authorization": "Bearer atl_nope"}, timeout=30)
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"


def test_stdio_flow(web, key, user):
    env = _worker_env({"SITE_URL": web.url, "ATELIER_API_KEY": key, **web_env_for_tests()})
    params = StdioServerParameters(command=sys.executable, args=["manage.py", "mcp"], env=env, cwd=str(ROOT))

    async def main():
        async with Client(params) as client:
            return await agent_flow(client)

    ids = anyio.run(main)
    assert Generation.objects.get(pk=ids["image"]).source == "agent"
