"""Celery app (workers/celery.py) and tracking engines. Engines import no Django."""
