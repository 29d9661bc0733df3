"""The slice end to end with a real Celery worker process (not eager mode).

On the default run the broker is kombu's filesystem transport; with --postgres it is Redis
and the database is PostgreSQL."""
import pytest

from apps.catalog.models import AIModel
from apps.generations.models import Generation
from apps.generations.services import generation_submit
from apps.wallet.audit import wallet_audit
from tests.conftest import personal_wallet
from tests.support.worker import wait_until

pytestmark = [pytest.mark.pg, pytest.mark.worker]


def _final(pk):
    generation = Generation.objects.get(pk=pk)
    return generation if generation.status in Generation.FINAL else None


def test_worker_runs_sandbox_image_job_and_captures(owner, catalog, worker):
    model = AIModel.objects.get(slug="sandbox-image")
    jobs = [
        generation_submit(user=owner, workspace=owner.current_workspace, model=model,
                          raw_params={"prompt": f"lighthouse number {i}", "size": "512x512"})[0]
        for i in range(3)
    ]
    for job in jobs:
        done = wait_until(lambda: _final(job.pk), timeout=60, message=f"job {job.pk}\n{worker.log()}")
        assert done.status == "succeeded", done.error_message
        output = done.outputs.get()
        assert output.file.size > 1000 and output.thumbnail.name.endswith(".webp")
    wallet = personal_wallet(owner)
    assert wallet.held == 0 and wallet.balance == 100_000 - sum(j.price for j in jobs)
    assert wallet_audit() == []


def test_worker_failure_releases_hold(owner, catalog, worker):
    model = AIModel.objects.get(slug="sandbox-image")
    generation = generation_submit(user=owner, workspace=owner.current_workspace, model=model,
                                   raw_params={"prompt": "fine"})[0]
    done = wait_until(lambda: _final(generation.pk), timeout=60, message="first job")
    assert done.status == "succeeded"
    # A model whose only route names an adapter nobody registered: the worker fails it cleanly.
    broken = AIModel.objects.create(slug="broken", name="Broken", vendor="x", modality="image",
                                    schema=model.schema, pricing=model.pricing)
    broken.routes.create(adapter="sandbox", upstream_model="no-such-engine")
    generation = generation_submit(user=owner, workspace=owner.current_workspace, model=broken,
                                   raw_params={"prompt": "x"})[0]
    done = wait_until(lambda: _final(generation.pk), timeout=60, message=f"broken job\n{worker.log()}")
    assert done.status == "failed" and done.error_code == "invalid_input"
    assert personal_wallet(owner).held == 0
    assert wallet_audit() == []
