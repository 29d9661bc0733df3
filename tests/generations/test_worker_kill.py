"""Kill a worker process in the middle of a job: the job still ends, charged at most once."""
import pytest
from django.core.cache import cache

from apps.catalog.models import AIModel, Channel
from apps.generations.models import Generation
from apps.generations.services import generation_submit, generations_sweep
from apps.wallet.audit import wallet_audit
from apps.wallet.models import Hold
from tests.conftest import personal_wallet
from tests.fakes.core import FakeUpstreamProcess
from tests.support.servers import free_port
from tests.support.worker import WorkerProcess, wait_until

pytestmark = [pytest.mark.pg, pytest.mark.worker]

LEASE = 3  # seconds: the worker's claim expires quickly so the test does not wait two minutes


@pytest.fixture
def upstream(transactional_db, settings):
    with FakeUpstreamProcess(free_port()) as fake:
        settings.SAFE_FETCH_ALLOW_HOSTS = [fake.url.split("//")[1]]
        yield fake


@pytest.fixture
def model(transactional_db, upstream):
    cache.clear()
    model = AIModel.objects.create(
        slug="flux-kill", name="FLUX", vendor="BFL", modality="image", limits={"deadline_seconds": 120},
        schema={"fields": [{"name": "prompt", "type": "text", "required": True}]},
        pricing={"unit": "image", "credits": "2"},
    )
    model.routes.create(adapter="replicate", upstream_model="black-forest-labs/flux-schnell")
    channel = Channel.objects.create(name="rep", adapter="replicate", base_url=upstream.url + "/v1")
    channel.api_key = "r8_kill_test"
    channel.save()
    return model


def start_worker(upstream):
    return WorkerProcess(extra_env={"GENERATION_LEASE_SECONDS": str(LEASE),
                                    "SAFE_FETCH_ALLOW_HOSTS": upstream.url.split("//")[1]})


def _status(pk):
    return Generation.objects.filter(pk=pk).values_list("status", flat=True).get()


def finish_with_sweeper(generation, timeout=60):
    """What beat does every few seconds: sweep until the job is final."""
    def done():
        generations_sweep()
        return _status(generation.pk) in Generation.FINAL
    wait_until(done, timeout=timeout, interval=0.5, message="the job to reach a final state")


def test_worker_killed_during_upstream_submit(owner, model, upstream):
    upstream.faults("replicate.create_model", latency=4, count=1)  # the submit call hangs for 4 s
    upstream.config(job_seconds=0.5)
    worker = start_worker(upstream)
    generation = generation_submit(user=owner, workspace=owner.current_workspace, model=model,
                                   raw_params={"prompt": "a storm"})[0]
    wait_until(lambda: _status(generation.pk) == "running", timeout=30, message="the worker to claim the job")
    worker.kill()  # mid-request: the job is running, nothing was charged
    assert Hold.objects.get(generation=generation).state == "open"

    second = start_worker(upstream)
    try:
        finish_with_sweeper(generation)
    finally:
        second.stop()
    generation.refresh_from_db()
    assert generation.status == "succeeded", generation.error_message
    assert Hold.objects.get(generation=generation).state == "captured"
    assert personal_wallet(owner).balance == 100_000 - 2_000
    assert wallet_audit() == []


def test_worker_killed_while_polling(owner, model, upstream):
    upstream.config(job_seconds=3)
    worker = start_worker(upstream)
    generation = generation_submit(user=owner, workspace=owner.current_workspace, model=model,
                                   raw_params={"prompt": "a calm sea"})[0]
    wait_until(lambda: Generation.objects.get(pk=generation.pk).upstream_id, timeout=30, message="the upstream submit")
    worker.kill()  # the delayed poll message dies with the worker

    second = start_worker(upstream)
    try:
        finish_with_sweeper(generation)
    finally:
        second.stop()
    generation.refresh_from_db()
    assert generation.status == "succeeded", generation.error_message
    assert generation.outputs.count() == 1
    # The upstream task was created once: the new worker resumed polling it, it did not resubmit.
    assert len(upstream.requests("replicate.create_model")) == 1
    assert personal_wallet(owner).balance == 100_000 - 2_000
    assert wallet_audit() == []
