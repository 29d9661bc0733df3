"""Signals the API layer sends; apps above it subscribe (the API never imports them)."""
from django.dispatch import Signal

# A request asked to be called back at `url` when its generation ends. Sent inside the submit
# transaction: a receiver that refuses the URL raises an ApplicationError, and the submission
# (and its hold) rolls back with it. kwargs: generation, url, created (False on a replay).
webhook_requested = Signal()
