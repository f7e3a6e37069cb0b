"""A throwaway PostgreSQL database for a benchmark run (created beside the server's default
database, dropped afterwards even when the benchmark fails)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def postgres_database(server_url: str, label: str) -> tuple[str, Callable[[], None]]:
    """A fresh database on the server of ``server_url``, and the function that drops it."""
    import psycopg

    name = f"tubelet_bench_{label}_{os.getpid()}"
    admin = psycopg.connect(server_url.replace("postgres://", "postgresql://"), autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return server_url.rsplit("/", 1)[0] + f"/{name}", drop


@contextmanager
def database_for(kind: str, server_url: str, label: str) -> Iterator[str | None]:
    """None for the embedded SQLite (``kind == "sqlite"``), else a throwaway PostgreSQL URL."""
    if kind == "sqlite":
        yield None
        return
    url, drop = postgres_database(server_url, label)
    try:
        yield url
    finally:
        drop()
