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
from tests.support.images import data_uri, product_shot, reference_ad
from tests.support.web import WebProcess, web_env_for_tests
from tests.support.worker import ROOT, process_env

pytestmark = [pytest.mark.worker]

EXPECTED_TOOLS = {"get_models", "get_balance", "generate_media", "get_generation_status", "generate_music",
                  "get_music_status", "create_ad_copy", "quote", "cancel_generation"}


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
    assert per_model["sandbox-image"]["properties"]["n"] == {"type": "integer", "minimum": 1, "maximum": 4, "default": 1}

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
    urls = [output["url"] for output in done["outputs"]]

    song = await client.call_tool("generate_music", {"prompt": "a song about a lighthouse keeper",
                                                     "style": "lofi, warm"})
    assert not song.is_error, song.content
    played = await _poll(client, "get_music_status", song.structured_content["generation_id"])
    assert played["status"] == "completed" and len(played["songs"]) >= 1
    first = played["songs"][0]
    assert first["audio_url"] and first["image_url"] and first["title"] and first["lyrics"]
    urls += [first["audio_url"], first["image_url"]]

    ads = await client.call_tool("create_ad_copy", {
        "reference_image_url": data_uri(reference_ad()), "product_image_url": data_uri(product_shot()),
        "variants": 3, "tone": "playful"})
    assert not ads.is_error, ads.content
    campaign = ads.structured_content
    assert len(campaign["generation_ids"]) == 3 and len(set(campaign["generation_ids"])) == 3
    assert all(variant["headline"] for variant in campaign["variants"])
    pictures = []
    for generation_id in campaign["generation_ids"]:
        variant = await _poll(client, "get_generation_status", generation_id)
        assert variant["status"] == "completed" and variant["outputs"][0]["kind"] == "image"
        pictures.append(variant["outputs"][0]["url"])
    return {"image": job["generation_id"], "urls": urls, "ads": pictures}


def _downloaded(urls: list[str]) -> list[httpx.Response]:
    answers = [httpx.get(url, timeout=30) for url in urls]
    assert all(answer.status_code == 200 for answer in answers)
    return answers


def _http_client(url: str, key: str) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60)
    return Client(streamable_http_client(url, http_client=http))


def test_the_agent_flow_over_streamable_http_and_stdio(web, make_user, catalog):
    """One live server and worker for both transports (each with its own account and key)."""
    keys = []
    for email in ("http-agent@example.com", "stdio-agent@example.com"):
        user = make_user(email)
        user_onboard(user=user)
        keys.append(api_key_create(user=user, workspace=user.current_workspace, name="agent").secret)

    async def over_http():
        # Agents of today speak the initialize-handshake revisions: the stateless server takes those too.
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {keys[0]}"}, timeout=60)
        async with Client(streamable_http_client(f"{web.url}/mcp", http_client=http), mode="legacy") as legacy:
            assert EXPECTED_TOOLS <= {tool.name for tool in (await legacy.list_tools()).tools}
            assert not (await legacy.call_tool("get_balance", {})).is_error
        async with _http_client(f"{web.url}/mcp", keys[0]) as client:
            return await agent_flow(client)

    env = process_env({"SITE_URL": web.url, "ATELIER_API_KEY": keys[1], **web_env_for_tests()})
    params = StdioServerParameters(command=sys.executable, args=["manage.py", "mcp"], env=env, cwd=str(ROOT))

    async def over_stdio():
        async with Client(params) as client:
            return await agent_flow(client)

    for flow in (over_http, over_stdio):
        ids = anyio.run(flow)
        assert Generation.objects.get(pk=ids["image"]).source == "agent"
        kinds = [answer.headers["content-type"].split("/")[0] for answer in _downloaded(ids["urls"])]
        assert kinds == ["image", "image", "audio", "image"]
        ads = _downloaded(ids["ads"])
        assert len({answer.content for answer in ads}) == 3  # three different pictures
    assert wallet_audit() == []

    missing = httpx.post(f"{web.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=30)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_api_key"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = httpx.post(f"{web.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                       headers={"Authorization": "Bearer atl_nope"}, timeout=30)
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    stream = httpx.get(f"{web.url}/mcp", headers={"Authorization": f"Bearer {keys[0]}",
                                                  "Accept": "text/event-stream"}, timeout=30)
    assert stream.status_code == 405  # stateless: no server-to-client stream to open
