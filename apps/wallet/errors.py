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
