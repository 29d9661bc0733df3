"""The credit unit, kept under this name for the callers above the wallet (studio, api) until
they import apps.catalog.money; it is defined there, in the bottom layer, so catalog can use it."""
from apps.catalog.money import MILLI, credits_to_milli, format_credits, milli_to_credits  # noqa: F401
