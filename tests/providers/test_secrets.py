"""No upstream secret in any repr, str, log line, error or attempt record.

The decrypted key, extra auth headers in the options, userinfo and query in the base URL
and signed output URLs are all secrets; every object that carries them is formatted every
way Python formats things, and a failover run over real HTTP is scanned end to end."""
import logging
import pprint

import pytest

from apps.catalog.models import AIModel, Channel
from apps.generations.models import Generation
from apps.generations.services import generation_poll, generation_run, generation_submit
from apps.providers.base import Job, OutputFile, ProviderResult
from apps.providers.registry import get_adapter
from apps.providers.router import RouteChoice, channel_config

KEY = "r8_SECRETkey0000111122223333"
HEADER = "hdrSECRET-4444"
PASSWORD = "pwSECRET5555"
QUERY_TOKEN = "qSECRET6666"
SIGNATURE = "sigSECRET7777"
SOURCE_TOKEN = "srcSECRET8888"
SECRETS = (KEY, HEADER, PASSWORD, QUERY_TOKEN, SIGNATURE, SOURCE_TOKEN)


def formatted_every_way(value) -> str:
    return "\n".join([
        repr(value), str(value), f"{value}", f"{value!r}", "%s %r" % (value, value), pprint.pformat(value),
        repr([value]), repr({"k": value}), repr((value,)),
    ])


def assert_no_secret(text: str):
    for secret in SECRETS:
        assert secret not in text, f"{secret} leaked in: {text[:400]}"


@pytest.fixture
def secret_channel(db):
    channel = Channel.objects.create(
        name="secretive", adapter="replicate",
        base_url=f"https://user:{PASSWORD}@api.example.com/v1?token={QUERY_TOKEN}",
        options={"headers": {"X-Extra-Auth": HEADER}, "timeout": 5},
    )
    channel.api_key = KEY
    channel.save()
    return channel


def test_every_config_object_formats_without_secrets(secret_channel):
    config = channel_config("secretive")
    assert config.api_key == KEY  # the adapter still gets the real key
    job = Job(id="g1", modality="image", upstream_model="owner/model",
              params={"prompt": "x", "image_url": f"https://cdn.example.com/a.png?token={SOURCE_TOKEN}"},
              channel=config)
    output = OutputFile(mime="image/png", url=f"https://cdn.example.com/o.png?X-Amz-Signature={SIGNATURE}")
    result = ProviderResult(status="succeeded", outputs=[output])
    for value in (config, job, output, result, RouteChoice(channel=config, upstream_model="m"), get_adapter(config),
                  secret_channel):
        assert_no_secret(formatted_every_way(value))
    text = repr(config)
    assert "secretive" in text and "api.example.com" in text and "X-Extra-Auth" not in text.replace("headers", "")


def test_log_lines_format_configs_safely(secret_channel, caplog):
    config = channel_config("secretive")
    with caplog.at_level(logging.DEBUG):
        job = Job(id="g", modality="image", upstream_model="m", params={}, channel=config)
        logging.getLogger("apps.providers").warning("channel %s job %r", config, job)
    assert caplog.records
    assert_no_secret(caplog.text)


@pytest.fixture
def flux(db):
    model = AIModel.objects.create(
        slug="flux-secret", name="FLUX", vendor="BFL", modality="image",
        schema={"fields": [{"name": "prompt", "type": "text", "required": True}]},
        pricing={"unit": "image", "credits": "1"},
    )
    model.routes.create(adapter="replicate", upstream_model="black-forest-labs/flux-schnell")
    return model


@pytest.mark.parametrize("outcome", ["fails_over", "fails"])
def test_a_failover_run_logs_and_records_no_secret(owner, flux, fake_upstream, monkeypatch, caplog, outcome):
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)
    monkeypatch.setattr("apps.generations.services._enqueue_poll", lambda gid, countdown: None)
    fake_upstream.config(instant=True)
    # The primary's key is refused; with "fails" the backup's is too.
    fake_upstream.faults("replicate.create_model", count=1 if outcome == "fails_over" else 2, status=401)
    primary = Channel.objects.create(name="primary", adapter="replicate", priority=10,
                                     base_url=fake_upstream.url + "/v1",
                                     options={"timeout": 2, "headers": {"X-Extra-Auth": HEADER}})
    primary.api_key = KEY
    primary.save()
    backup = Channel.objects.create(name="backup", adapter="replicate", priority=0, base_url=fake_upstream.url + "/v1",
                                    options={"timeout": 2})
    backup.api_key = KEY + "b"
    backup.save()
    with caplog.at_level(logging.DEBUG):
        generation = generation_submit(user=owner, workspace=owner.current_workspace, model=flux,
                                       raw_params={"prompt": "a lighthouse"})[0]
        generation_run(generation_id=generation.pk)
        for _ in range(10):
            generation.refresh_from_db()
            if not generation.is_pending:
                break
            Generation.objects.filter(pk=generation.pk).update(next_check_at=generation.created_at)
            generation_poll(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == ("succeeded" if outcome == "fails_over" else "failed")
    attempts = list(generation.attempts.values_list("error_code", "error_message"))
    assert any(code == "upstream_auth" for code, _ in attempts), attempts  # the 401 was seen and recorded
    assert len(attempts) >= 2
    assert caplog.records
    assert_no_secret(caplog.text)
    assert_no_secret(repr(attempts) + generation.error_message + repr(generation.__dict__))
