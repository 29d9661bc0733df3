from django import template

from apps.generations.selectors import progress_estimate
from apps.wallet.money import format_credits, milli_to_credits

from ..common import download_name, use_actions

register = template.Library()


@register.filter
def credits(milli):
    """Millicredits as a credit amount for people: 1500 -> '1.5'."""
    if milli in (None, ""):
        return "—"
    return format_credits(int(milli))


@register.filter
def credits_input(milli):
    """Millicredits as a value for a form input: 1500 -> '1.5' (no thousands separators)."""
    if milli in (None, ""):
        return ""
    return f"{milli_to_credits(int(milli)):f}"


@register.filter
def progress(generation):
    """{percent, seconds_left, estimated} of a pending job, or None."""
    return progress_estimate(generation)


@register.filter
def actions_for(output):
    """The "use as input" actions of one result (animate, edit, ...)."""
    return use_actions(output.kind) if output else []


@register.simple_tag
def file_name(generation, output, count):
    return download_name(generation, output, numbered=count > 1)


@register.simple_tag
def can_set_low_balance_alert(workspace, user):
    from ..services import can_set_alert

    return bool(workspace and user.is_authenticated and can_set_alert(workspace=workspace, user=user))
@register.filter(name="media_url")
def media_url_filter(file):
    """A stored file's signed, expiring URL: {{ output.thumbnail|media_url }}."""
    from apps.generations.storage import media_url

    return media_url(file, absolute=False)
