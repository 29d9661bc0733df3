from celery import shared_task

from . import services


@shared_task(name="apps.generations.tasks.run_generation", acks_late=True)
def run_generation(generation_id: str) -> None:
    services.generation_run(generation_id=generation_id)


@shared_task(name="apps.generations.tasks.poll_generation", acks_late=True)
def poll_generation(generation_id: str) -> None:
    services.generation_poll(generation_id=generation_id)


@shared_task(name="apps.generations.tasks.sweep_generations")
def sweep_generations() -> dict:
    return services.generations_sweep()
