"""Wallet hold throughput on PostgreSQL: one hot wallet vs. separate wallets, 16-way.

    .venv/bin/python bench/wallet.py [--workers 16] [--holds 300] [--durable]

Starts its own PostgreSQL (tests/support/servers.start_postgres), migrates, then runs
`hold_place` from --workers OS processes (one connection each), all started together:
  1. hot wallet:      every process places holds on the same wallet (the row everyone locks)
  2. separate wallets: every process has its own wallet
  3. hot team pool:   one team wallet, every process is a different member with a monthly
                      cap (the member-spend counter is updated in the same transaction)
  4. hot wallet, ORM: scenario 1 written with Django's ORM (what apps/wallet/fastpath.py
                      would be without raw SQL), to show what the raw statement buys
Prints holds/s for each and the hot/separate and raw/ORM ratios. The server runs with fsync=off and
synchronous_commit=off like the test server; --durable restarts it with PostgreSQL's defaults
(fsync, synchronous_commit, full_page_writes on), so every commit waits for its WAL flush."""
from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import _as_postgres_user, _pg_bin, start_postgres  # noqa: E402

HOLD = 10  # millicredits: small, so a wallet never runs dry during the run


def _make_durable(server, max_connections: int):
    """Restart the server without the test server's fsync=off / synchronous_commit=off /
    full_page_writes=off (command-line options outrank ALTER SYSTEM, hence a restart)."""
    port = urlparse(server.url).port
    options = (f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={server.workdir} "
               f"-c max_connections={max_connections} -c shared_buffers=128MB")
    data = str(Path(server.workdir) / "data")
    result = subprocess.run(
        _as_postgres_user([_pg_bin("pg_ctl"), "-D", data, "-o", options, "-l", str(Path(server.workdir) / "log"),
                           "-m", "fast", "-w", "restart"]),
        capture_output=True, text=True, timeout=120,
    )
    if result.returncode != 0:
        raise SystemExit(f"restart failed: {result.stderr[-500:]}")


def _django(url: str):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("ATELIER_VAR_DIR", tempfile.mkdtemp(prefix="atelier-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DB_CONN_MAX_AGE"] = "600"
    os.environ.setdefault("DB_POOL_MAX_SIZE", "32")  # one connection per benchmark thread
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 40)
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def orm_hold_place(*, wallet, amount: int):
    """hold_place's wallet move in the ORM: the same guard and rows, but UPDATE cannot return
    the new balance, so a SELECT and a separate INSERT follow it while the row is locked."""
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from apps.wallet.errors import InsufficientCredits
    from apps.wallet.models import Hold, LedgerEntry, Wallet

    with transaction.atomic():
        hold = Hold.objects.create(wallet_id=wallet.pk, amount=amount, state=Hold.State.OPEN)
        moved = Wallet.objects.filter(pk=wallet.pk, balance__gte=F("held") + amount).update(
            held=F("held") + amount, updated_at=timezone.now())
        if not moved:
            raise InsufficientCredits("Not enough credits for this generation.")
        balance, held = Wallet.objects.filter(pk=wallet.pk).values_list("balance", "held").get()
        LedgerEntry.objects.create(wallet_id=wallet.pk, kind=LedgerEntry.Kind.HOLD, held_delta=amount,
                                   balance_after=balance, held_after=held, hold=hold, reason="Hold for generation")
    return hold


def _worker(wallet_id, member_id, holds, start, queue, orm=False):
    from django.db import connection

    from apps.accounts.models import User
    from apps.wallet.models import Wallet
    from apps.wallet.services import hold_place

    wallet = Wallet.objects.get(pk=wallet_id)
    member = User.objects.get(pk=member_id) if member_id else None
    start.wait()
    began = time.perf_counter()
    for _ in range(holds):
        if orm:
            orm_hold_place(wallet=wallet, amount=HOLD)
        else:
            hold_place(wallet=wallet, amount=HOLD, member=member)
    queue.put((began, time.perf_counter()))
    connection.close()


def _run(label: str, targets: list[tuple[int, int | None]], holds: int, orm: bool = False) -> float:
    from django.db import connections

    context = multiprocessing.get_context("fork")
    connections.close_all()
    start = context.Barrier(len(targets))
    queue = context.Queue()
    processes = [context.Process(target=_worker, args=(w, m, holds, start, queue, orm)) for w, m in targets]
    for process in processes:
        process.start()
    spans = [queue.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise SystemExit(f"{label}: a worker failed (exit {process.exitcode})")
    elapsed = max(end for _, end in spans) - min(begin for begin, _ in spans)
    rate = len(targets) * holds / elapsed
    # The machine may be shared: the 1-minute load average says how much else was running.
    print(f"{label:<34} {len(targets) * holds:>6} holds in {elapsed:6.2f} s = {rate:8.0f} holds/s"
          f"   (load avg {os.getloadavg()[0]:.1f})", flush=True)
    return rate


def _setup(workers: int):
    from apps.accounts.models import Membership, User
    from apps.accounts.services import team_create
    from apps.wallet.models import MemberCap, Wallet
    from apps.wallet.services import wallet_grant

    users = [User.objects.create_user(email=f"bench{i}@example.com", password=None) for i in range(workers)]
    funds = 10**12
    hot = Wallet.objects.get(workspace=team_create(user=users[0], name="hot"))
    wallet_grant(wallet=hot, amount=funds, reason="bench")
    separate = []
    for i, user in enumerate(users):
        wallet = Wallet.objects.get(workspace=team_create(user=user, name=f"own {i}"))
        wallet_grant(wallet=wallet, amount=funds, reason="bench")
        separate.append(wallet.pk)
    pool_team = team_create(user=users[0], name="pool")
    pool = Wallet.objects.get(workspace=pool_team)
    wallet_grant(wallet=pool, amount=funds, reason="bench")
    for user in users[1:]:
        Membership.objects.create(workspace=pool_team, user=user, role="member")
    MemberCap.objects.bulk_create([MemberCap(wallet=pool, member=user, monthly_cap=funds) for user in users])
    return users, hot.pk, separate, pool.pk


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--holds", type=int, default=300, help="holds per worker per scenario")
    parser.add_argument("--durable", action="store_true", help="fsync=on, synchronous_commit=on")
    args = parser.parse_args()

    max_connections = max(100, args.workers * 2 + 10)
    server = start_postgres(max_connections=max_connections)
    try:
        if args.durable:
            _make_durable(server, max_connections)
        _django(server.url)
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
            cursor.execute("SHOW synchronous_commit")
            sync = cursor.fetchone()[0]
            cursor.execute("SHOW fsync")
            fsync = cursor.fetchone()[0]
        users, hot, separate, pool = _setup(args.workers)
        print(f"PostgreSQL {version} (fsync={fsync}, synchronous_commit={sync}); {os.cpu_count()} CPU cores; "
              f"{args.workers} worker processes x {args.holds} holds; each hold = one statement (INSERT hold, UPDATE wallet, INSERT ledger) + COMMIT")
        _run("warm-up (separate wallets)", [(w, None) for w in separate], max(20, args.holds // 10))
        hot_rate = _run(f"hot wallet, {args.workers}-way", [(hot, None)] * args.workers, args.holds)
        separate_rate = _run(f"{args.workers} separate wallets", [(w, None) for w in separate], args.holds)
        pool_rate = _run(f"hot team pool, {args.workers} capped members", [(pool, u.pk) for u in users], args.holds)
        orm_rate = _run(f"hot wallet, {args.workers}-way, ORM", [(hot, None)] * args.workers, args.holds, orm=True)
        print(f"ratio hot / separate: {hot_rate / separate_rate:.2f}")
        print(f"ratio hot wallet raw SQL / ORM: {hot_rate / orm_rate:.2f}")
        print(f"ratio team pool with caps / hot wallet: {pool_rate / hot_rate:.2f}")
        from apps.wallet.audit import wallet_audit

        problems = wallet_audit()
        print("wallet_audit:", "ok" if not problems else f"{len(problems)} problem(s): {problems[:3]}")
        if problems:
            raise SystemExit(1)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
