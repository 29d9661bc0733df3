from django import template

from apps.wallet.money import format_credits

register = template.Library()


@register.filter
def credits(milli):
    """Millicredits as a credit amount for people: 1500 -> '1.5'."""
    if milli in (None, ""):
        return "—"
    return format_credits(int(milli))
