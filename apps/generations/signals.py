"""Signals the generations app sends; higher apps (webhooks, ...) subscribe. It never imports them."""
from django.dispatch import Signal

# A generation reached succeeded, failed or canceled. Sent inside the transaction that flips its
# status (before the wallet is settled), so what a receiver writes commits or rolls back with
# the status change: an event is recorded if and only if the job really ended. Receivers keep
# to a few quick writes and enqueue their own work after commit.
# kwargs: generation (Generation), status (the final status), and request_hook=False when the
# generation cannot carry a webhook_url (a chat turn: its endpoints take none), so receivers
# need not look for one.
generation_finished = Signal()
