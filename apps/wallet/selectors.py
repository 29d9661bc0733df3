from dataclasses import dataclass

from .money import format_credits
from .models import Wallet


@dataclass(frozen=True)
class WalletSummary:
    balance: int
    held: int

    @property
    def available(self) -> int:
        return self.balance - self.held

    @property
    def available_display(self) -> str:
        return format_credits(self.available)

    @property
    def balance_display(self) -> str:
        return format_credits(self.balance)

    @property
    def held_display(self) -> str:
        return format_credits(self.held)


def wallet_summary(*, workspace) -> WalletSummary | None:
    row = Wallet.objects.filter(workspace=workspace).values_list("balance", "held").first()
    return WalletSummary(*row) if row else None
