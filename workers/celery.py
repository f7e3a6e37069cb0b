"""The Celery app. Queues: media (CPU ingest), gpu (tracking), export (dataset releases).

Every GPU worker also consumes a queue of its own, ``gpu.<hostname>``, so follow-up clicks on a
video reach the worker that holds that video's tracking session (see
tracking/services/routing.py).
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import celeryd_after_setup
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("tubelet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("media"), Queue("gpu"), Queue("export"))
app.conf.task_create_missing_queues = True
# Routing by task name keeps queue choice in one place; anything unnamed here goes to "media".
app.conf.task_routes = {
    "tracking.sweep": {"queue": "media"},
    "tracking.*": {"queue": "gpu"},
    "annotation.export_*": {"queue": "export"},
    "annotation.*": {"queue": "media"},
}
app.autodiscover_tasks(["annotation", "tracking"])


@app.on_after_configure.connect
def _periodic_jobs(sender: Celery, **_: object) -> None:
    from django.conf import settings

    every = float(settings.SWEEP_INTERVAL_SECONDS)
    sender.add_periodic_task(every, sender.signature("tracking.sweep", queue="media"), name="sweep")
    sender.add_periodic_task(
        every, sender.signature("annotation.expire_leases", queue="media"), name="leases"
    )
    sender.add_periodic_task(
        every, sender.signature("annotation.export_sweep", queue="export"), name="export-sweep"
    )


def worker_queue_name(hostname: str) -> str:
    return f"gpu.{hostname}"


@celeryd_after_setup.connect
def _add_private_gpu_queue(sender: str, instance: Any, **_: object) -> None:
    queues = instance.app.amqp.queues
    consumed = {q.name for q in queues.consume_from.values()} if queues.consume_from else set()
    if "gpu" in consumed:
        queues.select_add(worker_queue_name(sender))
        # Marks this worker alive for click routing and closes its idle tracking sessions.
        from tracking.services.routing import worker_heartbeat_start

        worker_heartbeat_start(sender)
