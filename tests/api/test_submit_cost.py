"""The statements of one POST /v1/generations on the hot path (issue 10): the key comes from the
cache, the catalog from the per-process cache, and the answer from what the submit wrote: no
read-back of the new row and no prefetch of its (empty) outputs."""
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

BODY = json.dumps({"model": "sandbox-image", "params": {"prompt": "a lighthouse", "size": "512x512"}})


def test_a_submit_writes_and_does_not_read_back(client, auth, member, monkeypatch):
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda *args, **kwargs: None)
    for _ in range(2):  # warm: the key's principal and the catalog are cached per process
        assert client.post("/v1/generations", data=BODY, content_type="application/json", **auth).status_code == 202
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/v1/generations", data=BODY, content_type="application/json", **auth)
    assert response.status_code == 202
    statements = [query["sql"] for query in captured.captured_queries]
    reads_of_generations = [sql for sql in statements if sql.startswith("SELECT") and '"generations_generation"' in
                            sql.split("FROM", 1)[-1].split("WHERE", 1)[0]]
    assert not [sql for sql in statements if '"generations_output"' in sql], statements
    assert not [sql for sql in reads_of_generations if "idempotency" not in sql], statements
    assert not [sql for sql in statements if '"api_apikey"' in sql and sql.startswith("SELECT")], statements
    assert not [sql for sql in statements if '"catalog_' in sql], statements
    # The embedded rate window (3 statements; one Redis call in production), then the insert, the
    # hold (wallet row, member spend, hold, wallet update, ledger entry), and the test's savepoints.
    assert len(statements) <= 14, "\n".join(statements)
