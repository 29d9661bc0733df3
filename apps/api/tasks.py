from celery import shared_task


@shared_task(name="apps.api.tasks.prune_api_records")
def prune_api_records() -> dict:
    """Idempotency records past their time, and rate-limit entries past their window."""
    import time

    from .idempotency import idempotency_prune
    from .limits import WINDOW_SECONDS
    from .models import RateLimitHit

    stale = RateLimitHit.objects.filter(at__lt=time.time() - 2 * WINDOW_SECONDS).delete()[0]
    return {"idempotency": idempotency_prune(), "rate_limit_hits": stale}
