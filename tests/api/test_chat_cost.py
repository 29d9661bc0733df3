"""The statements of one chat turn (issue 10): on PostgreSQL the turn's row, the member's spend,
the hold, the wallet and the ledger entry go in with one statement before the upstream is
called, and the charge is written after the answer with one wallet statement (flip, give-back,
wallet, ledger). SQLite writes the same rows statement by statement."""
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.generations.models import Generation
from apps.wallet.audit import wallet_audit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.pg]

BODY = json.dumps({"model": "sandbox-text", "max_tokens": 50,
                   "messages": [{"role": "user", "content": "Say hello."}]})


def _writes_to(statements: list[str], table: str) -> list[str]:
    return [sql for sql in statements if f'"{table}"' in sql and not sql.startswith("SELECT")]


def test_a_chat_turn_is_opened_and_settled_in_one_wallet_statement_each(client, auth, member):
    for _ in range(2):  # warm: the key's principal and the catalog are cached per process
        assert client.post("/v1/chat/completions", data=BODY, content_type="application/json", **auth).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/v1/chat/completions", data=BODY, content_type="application/json", **auth)
    assert response.status_code == 200
    statements = [query["sql"] for query in captured.captured_queries
                  if not query["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))]
    generation = Generation.objects.get(pk=response.json()["generation_id"])
    assert generation.status == "succeeded" and generation.charged is not None
    assert list(generation.attempts.values_list("channel_name", "outcome")) == [("Sandbox", "ok")]
    assert generation.usage["input_tokens"] > 0 and generation.result_text and generation.finished_at
    holds, wallets = _writes_to(statements, "wallet_hold"), _writes_to(statements, "wallet_wallet")
    if connection.vendor == "postgresql":
        opening, settling = holds
        assert opening.startswith("WITH") and all(f'"{table}"' in opening for table in (
            "generations_generation", "wallet_memberspend", "wallet_wallet", "wallet_ledgerentry")), opening
        # (the member's spend is given back in it too when the turn used less than it held), and
        # the turn's flip to succeeded rides in the same statement
        assert all(f'"{table}"' in settling for table in ("wallet_wallet", "wallet_ledgerentry",
                                                          "generations_generation")), settling
        assert wallets == [opening, settling]
    else:
        assert len(holds) == 2 and len(wallets) == 2  # placed, settled: one wallet UPDATE each
    assert not [sql for sql in statements if '"catalog_' in sql or '"api_apikey"' in sql], statements
    assert wallet_audit() == []


def test_a_turn_the_deadline_sweep_released_first_is_not_charged(member):
    """The settle's capture rides on the turn's flip from running: when the sweep failed the turn
    and released its hold first, the late settle charges nothing and the ledger stays exact."""
    from apps.catalog.models import AIModel
    from apps.generations.chat import chat_complete, chat_open
    from apps.generations.services import generation_fail
    from apps.wallet.models import Hold, LedgerEntry, Wallet

    wallet = Wallet.objects.get(workspace=member.current_workspace)
    before = wallet.balance
    turn = chat_open(user=member, workspace=member.current_workspace, wallet=wallet,
                     model=AIModel.objects.get(slug="sandbox-text"), raw_params={
                         "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 50})
    result = chat_complete(turn=turn, settle=False)
    assert result.charged > 0
    assert generation_fail(generation=turn.generation, code="deadline_exceeded", message="swept")
    turn.settle()
    generation, hold = Generation.objects.get(pk=turn.generation.pk), Hold.objects.get(generation=turn.generation)
    assert generation.status == "failed" and generation.charged is None
    assert hold.state == "released" and hold.captured_amount is None
    assert list(LedgerEntry.objects.filter(hold=hold).values_list("kind", flat=True).order_by("id")) == [
        "hold", "release"]
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.held) == (before, 0) and wallet_audit() == []


def test_psycopg_reuses_its_parse_of_the_hold_statement(client, auth, member):
    """The hold's statement has more parameters than psycopg caches by default (50): without
    apps.core.db.statement_cache_widen every turn re-parsed it. Fails when a psycopg release
    renames the knob (the widening then silently does nothing)."""
    from psycopg import _queries

    assert _queries.MAX_CACHED_STATEMENT_PARAMS >= 128  # widened when the wallet app is ready
    if connection.vendor != "postgresql":
        return  # SQLite's statements do not go through psycopg; the cache itself is checked on PostgreSQL

    def hold_statement():
        with CaptureQueriesContext(connection) as captured:
            assert client.post("/v1/chat/completions", data=BODY, content_type="application/json",
                               **auth).status_code == 200
        return next(query["sql"] for query in captured.captured_queries if query["sql"].startswith("WITH"))

    assert len(hold_statement()) > 0
    parsed = _queries._query2pg_client.cache_info()
    hold_statement()
    again = _queries._query2pg_client.cache_info()
    assert again.hits > parsed.hits and again.misses == parsed.misses, (parsed, again)


@pytest.mark.parametrize("guard", ["credits", "key_budget", "member_cap"])
def test_a_refused_turn_leaves_nothing_behind_and_says_which_guard(client, member, guard):
    """Outside a transaction (as in production) the hold's statement runs alone on PostgreSQL
    and aborts itself when a guard refuses; the transactional retry names the guard. Either way
    no turn row, hold, ledger entry, member spend or budget spend remains."""
    from apps.api.services import api_key_create
    from apps.wallet.models import Budget, BudgetSpend, Hold, LedgerEntry, MemberCap, MemberSpend, Wallet

    workspace = member.current_workspace
    wallet = Wallet.objects.get(workspace=workspace)
    key = api_key_create(user=member, workspace=workspace, name="guarded",
                         credit_limit=1 if guard == "key_budget" else None)
    if guard == "credits":  # another job holds all of it
        from apps.wallet.services import hold_place

        hold_place(wallet=wallet, amount=wallet.available)
    if guard == "member_cap":
        MemberCap.objects.create(wallet=wallet, member=member, monthly_cap=1)
    before = (Generation.objects.count(), Hold.objects.count(), LedgerEntry.objects.count(),
              list(MemberSpend.objects.values_list("amount", flat=True)), list(Budget.objects.values_list("spent", flat=True)),
              BudgetSpend.objects.count())
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/v1/chat/completions", data=BODY, content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {key.secret}")
    assert response.status_code == 402, response.content
    assert response.json()["error"]["code"] == {"credits": "insufficient_credits", "key_budget":
                                                "api_key_credit_limit_exceeded",
                                                "member_cap": "member_cap_exceeded"}[guard]
    assert (Generation.objects.count(), Hold.objects.count(), LedgerEntry.objects.count(),
            list(MemberSpend.objects.values_list("amount", flat=True)), list(Budget.objects.values_list("spent", flat=True)),
            BudgetSpend.objects.count()) == before
    if connection.vendor == "postgresql":  # tried alone first, then again in a transaction to name the guard
        holds = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("WITH")]
        assert len(holds) == 2 and "AS placed" in holds[0] and "AS placed" not in holds[1]
    assert wallet_audit() == []


def test_a_placed_turn_opens_with_its_statement_alone(client, auth, member):
    """On PostgreSQL the turn's hold is one statement in autocommit: no BEGIN before it."""
    assert client.post("/v1/chat/completions", data=BODY, content_type="application/json", **auth).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.post("/v1/chat/completions", data=BODY, content_type="application/json",
                           **auth).status_code == 200
    statements = [query["sql"] for query in captured.captured_queries]
    if connection.vendor != "postgresql":
        return  # SQLite writes the turn's rows in one IMMEDIATE transaction (test above)
    opening = next(index for index, sql in enumerate(statements) if sql.startswith("WITH"))
    assert "AS placed" in statements[opening]
    assert "BEGIN" not in statements[:opening], statements[:opening]
