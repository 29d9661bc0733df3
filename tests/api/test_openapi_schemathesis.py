"""Schemathesis against /v1/openapi.json on a live server: no server error and no answer that
breaks the document (status, content type or body), within a few minutes.

Bounded: two examples per operation, no shrinking, a fixed seed, the /api/v1 copies of the
/v1 routers left out (the same code; the operations only /api/v1 has are kept), and a one-second
wait on the endpoints that wait for a job (no worker runs, so they answer their documented 504
generation_pending: see tests/api/schemathesis.toml)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from apps.accounts.models import Plan
from apps.accounts.services import user_onboard
from apps.api.services import api_key_create
from apps.wallet.models import Wallet
from apps.wallet.services import wallet_grant
from tests.support.web import WebProcess, web_env_for_tests

pytestmark = [pytest.mark.fuzz]

CONFIG = Path(__file__).with_name("schemathesis.toml")
SHARED_ROUTER_COPIES = r"^api_v1_(?!(seedance|gpt_image_2|nano_banana_pro|task|catalog_\w+)$)"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def test_schemathesis_finds_no_server_error_and_no_schema_violation(transactional_db, catalog, make_user, tmp_path):
    user = make_user("fuzz@example.com")
    user_onboard(user=user)
    workspace = user.current_workspace
    # Limits out of the way (429s are documented, but would keep the run from reaching the code).
    workspace.plan = Plan.objects.create(name="fuzz", requests_per_minute=100_000, polls_per_minute=100_000,
                                         concurrent_video_jobs=None, publishable_requests_per_minute=100_000)
    workspace.save(update_fields=["plan"])
    wallet_grant(wallet=Wallet.objects.get(workspace=workspace), amount=10**9, reason="schemathesis")
    key = api_key_create(user=user, workspace=workspace, name="fuzz").secret
    server = WebProcess(extra_env={**web_env_for_tests(), "API_SYNC_WAIT_SECONDS": "1"}, threads=8)
    try:
        run = subprocess.run(
            [str(Path(sys.executable).with_name("st")), "--config-file", str(CONFIG), "run",
             f"{server.url}/v1/openapi.json", "--checks", CHECKS, "-H", f"Authorization: Bearer {key}",
             "--max-examples", "2", "--phases", "examples,coverage,fuzzing", "--no-shrink", "--seed", "13",
             "--workers", "2", "--request-timeout", "15", "--exclude-operation-id-regex", SHARED_ROUTER_COPIES,
             "--no-color"],
            cwd=tmp_path, capture_output=True, text=True, timeout=540, check=False,
        )
    finally:
        server.stop()
    # The failures section first (each case's curl line), then the summary.
    failures = run.stdout.find("FAILURES")
    report = (run.stdout[failures:failures + 12000] if failures >= 0 else "") + run.stdout[-3000:] + run.stderr[-2000:]
    assert run.returncode == 0, report
    assert " passed" in run.stdout and "failures" not in run.stdout.splitlines()[-1], report
