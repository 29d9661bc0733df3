from django import template

from apps.wallet.money import format_credits

register = template.Library()


@register.filter
def credits(milli):
    """Millicredits as a credit amount for people: 1500 -> '1.5'."""
    if milli in (None, ""):
        return "—"
    return format_credits(int(milli))


@register.filter(name="media_url")
def media_url_filter(file):
    """A stored file's signed, expiring URL: {{ output.thumbnail|media_url }}."""
    from apps.generations.storage import media_url

    return media_url(file, absolute=False)
