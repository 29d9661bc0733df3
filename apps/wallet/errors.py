class WalletError(Exception):
    code = "wallet_error"
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InsufficientCredits(WalletError):
    code = "insufficient_credits"
    status = 402


class MemberCapExceeded(WalletError):
    code = "member_cap_exceeded"
    status = 402


class RedemptionError(WalletError):
    """A redemption code was refused; `code` says why (stable, for the UI and the API)."""

    def __init__(self, code: str, message: str, status: int):
        super().__init__(message)
        self.code = code
        self.status = status


def code_invalid() -> RedemptionError:
    return RedemptionError("code_invalid", "This code does not exist.", 404)


def code_expired() -> RedemptionError:
    return RedemptionError("code_expired", "This code has expired.", 410)


def code_exhausted() -> RedemptionError:
    return RedemptionError("code_exhausted", "This code has been redeemed the maximum number of times.", 409)


def code_already_redeemed() -> RedemptionError:
    return RedemptionError("code_already_redeemed", "You have already redeemed this code.", 409)
