"""Credits are stored as integer millicredits: exact, never float.

The unit lives in catalog, the bottom layer, because prices are quoted in it before any
wallet is involved; the wallet and everything above use it from here."""
from decimal import Decimal

MILLI = 1000


def credits_to_milli(value) -> int:
    """Convert a credit amount ('1.5', 2, Decimal) to millicredits, exactly or not at all."""
    amount = Decimal(str(value)) * MILLI
    if amount != amount.to_integral_value():
        raise ValueError("Credit amounts have at most three decimal places.")
    return int(amount)


def milli_to_credits(milli: int) -> Decimal:
    return (Decimal(milli) / MILLI).normalize() if milli else Decimal(0)


def format_credits(milli: int) -> str:
    value = Decimal(milli) / MILLI
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return text
