"""Signals the generations app sends; higher apps (webhooks, ...) subscribe. It never imports them."""
from django.dispatch import Signal

# A generation reached succeeded, failed or canceled. Sent inside the transaction that flips its
# status (before the wallet is settled), so what a receiver writes commits or rolls back with
# the status change: an event is recorded if and only if the job really ended. Receivers keep
# to a few quick writes and enqueue their own work after commit.
# kwargs: generation (Generation), status (the final status).
generation_finished = Signal()
