from celery import shared_task

from . import services


@shared_task(name="apps.studio.tasks.send_low_balance_alerts")
def send_low_balance_alerts() -> int:
    return services.low_balance_alerts_send()
