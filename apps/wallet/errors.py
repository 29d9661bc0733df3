from apps.core.errors import ApplicationError, Kind


class WalletError(ApplicationError):
    code = "wallet_error"


class InsufficientCredits(WalletError):
    kind = Kind.PAYMENT
    code = "insufficient_credits"


class MemberCapExceeded(WalletError):
    kind = Kind.PAYMENT
    code = "member_cap_exceeded"


class BudgetExceeded(WalletError):
    """A spender's own credit limit (an API key's budget) would be passed."""

    kind = Kind.PAYMENT
    code = "budget_exceeded"


class RedemptionError(WalletError):
    """A redemption code was refused; `code` says why (stable, for the UI and the API)."""

    def __init__(self, code: str, message: str, kind: str):
        super().__init__(message, code=code, kind=kind)


def code_invalid() -> RedemptionError:
    return RedemptionError("code_invalid", "This code does not exist.", Kind.NOT_FOUND)


def code_expired() -> RedemptionError:
    return RedemptionError("code_expired", "This code has expired.", Kind.GONE)


def code_exhausted() -> RedemptionError:
    return RedemptionError("code_exhausted", "This code has been redeemed the maximum number of times.", Kind.CONFLICT)


def code_already_redeemed() -> RedemptionError:
    return RedemptionError("code_already_redeemed", "You have already redeemed this code.", Kind.CONFLICT)
