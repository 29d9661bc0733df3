from celery import shared_task

from . import services


@shared_task(name="apps.webhooks.tasks.deliver_webhook", acks_late=True)
def deliver_webhook(delivery_id: int) -> None:
    services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="apps.webhooks.tasks.sweep_webhooks")
def sweep_webhooks() -> int:
    return services.deliveries_sweep()
