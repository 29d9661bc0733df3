from django.core.management.base import BaseCommand, CommandError

from apps.wallet.audit import wallet_audit


class Command(BaseCommand):
    help = "Recompute every wallet from its ledger and check holds against generations; non-zero exit on mismatch."

    def handle(self, *args, **options):
        problems = wallet_audit()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) found")
        self.stdout.write(self.style.SUCCESS("wallet audit: all wallets match their ledgers"))
